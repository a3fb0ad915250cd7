package authz

import (
	"context"

	"github.com/heraldhq/herald"
)

var _ herald.RecordNotificationService = recordNotifications{}

// recordNotifications guards Kintone's per-record and reminder
// notifications as the settings they are part of: reading needs
// settings:read, writing settings:write (which covers the inbox notifier
// the write may ensure, as for any settings surface), on a source in
// scope.
type recordNotifications struct{ g *guard }

func (s recordNotifications) FindRecordNotifications(ctx context.Context, scope herald.SettingsScope, version string) (*herald.RecordNotifications, error) {
	if err := s.g.checkSettings(ctx, herald.ActRead, scope); err != nil {
		return nil, err
	}
	return s.g.raw.RecordNotifications.FindRecordNotifications(ctx, scope, version)
}

func (s recordNotifications) UpdateRecordNotifications(ctx context.Context, ref herald.SettingsRef, change herald.RecordNotificationsChangeFunc) (*herald.RecordNotifications, error) {
	if err := s.g.checkSettings(ctx, herald.ActUpdate, ref.Scope); err != nil {
		return nil, err
	}
	return s.g.raw.RecordNotifications.UpdateRecordNotifications(ctx, ref, change)
}
