package daemon

import _ "embed"

// DemoConfig is the built-in demo configuration (`gslbd demo`).
//
//go:embed demo.conf
var DemoConfig []byte
