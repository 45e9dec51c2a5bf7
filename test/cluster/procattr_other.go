//go:build !linux

package cluster

import "syscall"

// sysProcAttr returns nil: outside Linux there is no parent-death signal, so
// components outlive a test process that is killed before Close runs.
func sysProcAttr() *syscall.SysProcAttr { return nil }
