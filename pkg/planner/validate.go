package planner

// Validate runs the checks the controller makes before it acts on a Rollout, those that
// need other objects than the Rollout (the effective pod template, its selector and the
// Services), and returns the problems in the words of the InvalidSpec condition, joined
// by "; ", or "" when the spec is valid. Only Rollout, Template, Selector, WorkloadMissing
// and the Services of in are read.
func Validate(in Input) string {
	return newPlanner(in).validate()
}
