package herald_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/heraldhq/herald"
)

func TestFieldErrors_ReadsAsItsFirstErrorAndListsAll(t *testing.T) {
	t.Parallel()
	first := herald.Errorf(herald.EINVALID, "a", "A is wrong.")
	second := herald.Errorf(herald.EINVALID, "b", "B is wrong.")
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"bare", herald.FieldErrors{first, second}},
		{"wrapped", fmt.Errorf("saving: %w", herald.FieldErrors{first, second})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := herald.ErrorCode(tt.err); got != herald.EINVALID {
				t.Errorf("ErrorCode = %q", got)
			}
			if got := herald.ErrorField(tt.err); got != "a" {
				t.Errorf("ErrorField = %q", got)
			}
			if got := herald.ErrorMessage(tt.err); got != "A is wrong." {
				t.Errorf("ErrorMessage = %q", got)
			}
			if got := herald.ErrorFields(tt.err); !reflect.DeepEqual(got, []*herald.Error{first, second}) {
				t.Errorf("ErrorFields = %v", got)
			}
		})
	}
}

func TestErrorFields_OfOneErrorIsThatError(t *testing.T) {
	t.Parallel()
	e := herald.Errorf(herald.EINVALID, "a", "A is wrong.")
	if got := herald.ErrorFields(e); !reflect.DeepEqual(got, []*herald.Error{e}) {
		t.Errorf("ErrorFields(*Error) = %v", got)
	}
	if got := herald.ErrorFields(fmt.Errorf("boom")); got != nil {
		t.Errorf("ErrorFields(internal) = %v", got)
	}
	if got := herald.ErrorFields(nil); got != nil {
		t.Errorf("ErrorFields(nil) = %v", got)
	}
}

func TestFieldErrors_Err(t *testing.T) {
	t.Parallel()
	if err := (herald.FieldErrors{}).Err(); err != nil {
		t.Errorf("empty: %v", err)
	}
	one := herald.Errorf(herald.EINVALID, "a", "A is wrong.")
	if err := (herald.FieldErrors{one}).Err(); err != error(one) {
		t.Errorf("one: %#v", err)
	}
	two := herald.FieldErrors{one, herald.Errorf(herald.EINVALID, "b", "B is wrong.")}
	if err := two.Err(); !reflect.DeepEqual(err, error(two)) {
		t.Errorf("two: %#v", err)
	}
}

func TestNotificationSettingsUpdate_ValidateReportsEveryField(t *testing.T) {
	t.Parallel()
	short, long := 3, 10
	u := herald.NotificationSettingsUpdate{OTPCodeLen: &short, OTPTTL: &long, SMSNotifier: &herald.NullableID{ID: -1}}
	var fields []string
	for _, e := range herald.ErrorFields(u.Validate()) {
		fields = append(fields, e.Field)
	}
	if want := []string{herald.FieldOTPCodeLen, herald.FieldOTPTTL, herald.FieldSMSNotifier}; !reflect.DeepEqual(fields, want) {
		t.Errorf("fields %v, want %v", fields, want)
	}
}
