package store

// SubscribeInbox is a placeholder while the tests are written.
func (db *DB) SubscribeInbox(tenantID, userID int64) (<-chan struct{}, func()) { return nil, func() {} }

// SignalsAcrossNodes is a placeholder.
func (db *DB) SignalsAcrossNodes() bool { return false }
