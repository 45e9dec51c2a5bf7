package cluster

import "syscall"

// sysProcAttr puts a component in its own process group, so that a Ctrl-C on
// the terminal reaches only the test process (which then stops the components
// in order), and has the kernel kill it if the test process dies first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
