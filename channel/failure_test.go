package channel_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"
	"testing"

	"github.com/heraldhq/herald/channel"
)

func TestFailure_ErrorNamesTheCategoryOnly(t *testing.T) {
	t.Parallel()
	dial := fmt.Errorf("dial tcp 10.0.0.7:25: %w", syscall.ECONNREFUSED)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"Connect", channel.Temporary(fmt.Errorf("email: %w", channel.Fail(channel.ReasonConnect, "", dial)), 0), "email: could not connect"},
		{"Rejected", channel.Permanent(fmt.Errorf("email: %w", channel.Fail(channel.ReasonRejected, "550 5.1.1", dial))), "email: rejected by the server: 550 5.1.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q; want %q", got, tt.want)
			}
			if !errors.Is(tt.err, syscall.ECONNREFUSED) {
				t.Error("the underlying error is not reachable with errors.Is")
			}
			if d := channel.Detail(tt.err); d != tt.want+" (dial tcp 10.0.0.7:25: connection refused)" {
				t.Errorf("Detail = %q", d)
			}
		})
	}
	if r := channel.ReasonOf(tests[0].err); r != channel.ReasonConnect {
		t.Errorf("ReasonOf = %q", r)
	}
	if r, d := channel.ReasonOf(dial), channel.Detail(dial); r != "" || d != dial.Error() {
		t.Errorf("plain error: ReasonOf %q, Detail %q", r, d)
	}
}

// TestError_LogValueKeepsTheDetail: logging a send error as an attribute,
// as the delivery engine does, writes the detail the error's text leaves out.
func TestError_LogValueKeepsTheDetail(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	err := channel.Temporary(fmt.Errorf("email: %w", channel.Fail(channel.ReasonConnect, "", errors.New("read tcp: i/o timeout"))), 0)
	slog.New(slog.NewTextHandler(&buf, nil)).Info("delivery attempt failed", "err", err)
	if !strings.Contains(buf.String(), "email: could not connect (read tcp: i/o timeout)") {
		t.Errorf("log %q lacks the detail", buf.String())
	}
}
