package console

// ChineseCatalogueForFormTests is the Chinese catalogue, English message
// to Chinese, for the form tests that find no English message left on a
// page shown in Chinese.
func ChineseCatalogueForFormTests() map[string]string { return catalogue[langZH] }
