package store

// SetMaxBulkRetry lowers the bound of one RetryDeliveries call until
// restore is called; the test that calls it must not run in parallel.
func SetMaxBulkRetry(n int) (restore func()) {
	old := maxBulkRetry
	maxBulkRetry = n
	return func() { maxBulkRetry = old }
}
