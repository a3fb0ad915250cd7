package authz

import (
	"context"
	"time"

	"github.com/heraldhq/herald"
)

// pushes: broadcasts are the tenant's, so every action needs an unscoped
// token; approving or rejecting needs push:approve.
type pushes struct{ g *guard }

func pushCheck(ctx context.Context, act herald.Action) error {
	_, err := herald.Authorize(ctx, herald.ResPush, act)
	return err
}

func (s pushes) FindPushByID(ctx context.Context, id int64) (*herald.Push, error) {
	if err := pushCheck(ctx, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.Pushes.FindPushByID(ctx, id)
}

func (s pushes) FindPushes(ctx context.Context, f herald.PushFilter, page herald.Page) ([]*herald.Push, string, error) {
	if err := pushCheck(ctx, herald.ActRead); err != nil {
		return nil, "", err
	}
	return s.g.raw.Pushes.FindPushes(ctx, f, page)
}

func (s pushes) CreatePush(ctx context.Context, p *herald.Push) error {
	if err := pushCheck(ctx, herald.ActCreate); err != nil {
		return err
	}
	return s.g.raw.Pushes.CreatePush(ctx, p)
}

func (s pushes) UpdatePush(ctx context.Context, p *herald.Push) error {
	if err := pushCheck(ctx, herald.ActUpdate); err != nil {
		return err
	}
	return s.g.raw.Pushes.UpdatePush(ctx, p)
}

func (s pushes) PreviewPush(ctx context.Context, id int64) (*herald.PushPreview, error) {
	if err := pushCheck(ctx, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.Pushes.PreviewPush(ctx, id)
}

func (s pushes) SubmitPush(ctx context.Context, id int64, reason string) (*herald.Push, error) {
	if err := pushCheck(ctx, herald.ActUpdate); err != nil {
		return nil, err
	}
	return s.g.raw.Pushes.SubmitPush(ctx, id, reason)
}

func (s pushes) WithdrawPush(ctx context.Context, id int64) (*herald.Push, error) {
	if err := pushCheck(ctx, herald.ActUpdate); err != nil {
		return nil, err
	}
	return s.g.raw.Pushes.WithdrawPush(ctx, id)
}

func (s pushes) ApprovePush(ctx context.Context, id int64) (*herald.Push, error) {
	if err := pushCheck(ctx, herald.ActApprove); err != nil {
		return nil, err
	}
	return s.g.raw.Pushes.ApprovePush(ctx, id)
}

func (s pushes) RejectPush(ctx context.Context, id int64, reason string) (*herald.Push, error) {
	if err := pushCheck(ctx, herald.ActApprove); err != nil {
		return nil, err
	}
	return s.g.raw.Pushes.RejectPush(ctx, id, reason)
}

func (s pushes) ExecutePush(ctx context.Context, id int64, sendAt time.Time) (*herald.Push, error) {
	if err := pushCheck(ctx, herald.ActUpdate); err != nil {
		return nil, err
	}
	return s.g.raw.Pushes.ExecutePush(ctx, id, sendAt)
}

func (s pushes) CancelPush(ctx context.Context, id int64, recall bool) (*herald.Push, error) {
	if err := pushCheck(ctx, herald.ActUpdate); err != nil {
		return nil, err
	}
	return s.g.raw.Pushes.CancelPush(ctx, id, recall)
}

// pushDirectory: the vendor ids a push names are read as part of the push.
type pushDirectory struct{ g *guard }

func (s pushDirectory) FindUsersByIMIDs(ctx context.Context, kind string, ids []string) ([]*herald.User, error) {
	if err := pushCheck(ctx, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.PushDirectory.FindUsersByIMIDs(ctx, kind, ids)
}

func (s pushDirectory) FindUsersByIDs(ctx context.Context, ids []int64) ([]*herald.User, error) {
	if err := pushCheck(ctx, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.PushDirectory.FindUsersByIDs(ctx, ids)
}

func (s pushDirectory) FindDepartmentsByCodes(ctx context.Context, codes []string) ([]*herald.Department, error) {
	if err := pushCheck(ctx, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.PushDirectory.FindDepartmentsByCodes(ctx, codes)
}

func (s pushDirectory) FindDepartmentsByIDs(ctx context.Context, ids []int64) ([]*herald.Department, error) {
	if err := pushCheck(ctx, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.PushDirectory.FindDepartmentsByIDs(ctx, ids)
}

func (s pushDirectory) FindChatsByCodes(ctx context.Context, codes []string) ([]*herald.Chat, error) {
	if err := pushCheck(ctx, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.PushDirectory.FindChatsByCodes(ctx, codes)
}

func (s pushDirectory) FindChatsByIDs(ctx context.Context, ids []int64) ([]*herald.Chat, error) {
	if err := pushCheck(ctx, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.PushDirectory.FindChatsByIDs(ctx, ids)
}

func (s pushes) FindPushPolicy(ctx context.Context) (*herald.PushPolicy, error) {
	if _, err := herald.Authorize(ctx, herald.ResPushPolicy, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.Pushes.FindPushPolicy(ctx)
}

func (s pushes) UpdatePushPolicy(ctx context.Context, pol *herald.PushPolicy) error {
	if _, err := herald.Authorize(ctx, herald.ResPushPolicy, herald.ActUpdate); err != nil {
		return err
	}
	return s.g.raw.Pushes.UpdatePushPolicy(ctx, pol)
}

// PushActions: listing what one may do is reading the pushes; each
// action is then checked against the policy (herald.AllowedPushActions).
func (s pushes) PushActions(ctx context.Context, ps []*herald.Push) (herald.PushActionsOf, error) {
	if err := pushCheck(ctx, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.Pushes.PushActions(ctx, ps)
}
