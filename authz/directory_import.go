package authz

import (
	"context"

	"github.com/heraldhq/herald"
)

func (s directory) FindUserByCode(ctx context.Context, code string) (*herald.User, error) {
	if err := dirCheck(ctx, herald.ActRead); err != nil {
		return nil, err
	}
	return s.g.raw.Directory.FindUserByCode(ctx, code)
}

// ImportUsers creates and updates users: it needs both.
func (s directory) ImportUsers(ctx context.Context, im *herald.UserImport) (herald.UserImportResult, error) {
	if err := dirCheck(ctx, herald.ActCreate); err != nil {
		return herald.UserImportResult{}, err
	}
	if err := dirCheck(ctx, herald.ActUpdate); err != nil {
		return herald.UserImportResult{}, err
	}
	return s.g.raw.Directory.ImportUsers(ctx, im)
}
