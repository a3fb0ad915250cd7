package api

import (
	"net/http"

	"github.com/heraldhq/herald"
)

// verified is the answer of a right code.
type verified struct {
	Verified bool        `json:"verified"`
	OTP      *herald.OTP `json:"otp"`
}

// handleSendOTP sends a one-time code through the project's notifier of the
// channel; the answer is the code's record, never the code.
func (s *Server) handleSendOTP(w http.ResponseWriter, r *http.Request) error {
	if s.OTP == nil {
		return herald.Errorf(herald.ENOTFOUND, "", "one-time codes are not enabled on this server")
	}
	var req herald.OTPSend
	if err := decode(w, r, &req); err != nil {
		return err
	}
	o, err := s.OTP.SendOTP(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, o)
}

// handleVerifyOTP checks a code, by its id or by destination and purpose.
func (s *Server) handleVerifyOTP(w http.ResponseWriter, r *http.Request) error {
	if s.OTP == nil {
		return herald.Errorf(herald.ENOTFOUND, "", "one-time codes are not enabled on this server")
	}
	var req herald.OTPVerify
	if err := decode(w, r, &req); err != nil {
		return err
	}
	o, err := s.OTP.VerifyOTP(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, verified{Verified: true, OTP: o})
}
