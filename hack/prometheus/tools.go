//go:build tools

// Package tools pins Prometheus, built by build.sh for the analysis integration tests
// and the demo.
package tools

import _ "github.com/prometheus/prometheus/cmd/prometheus"
