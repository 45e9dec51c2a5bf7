// Package argocd holds the Argo CD health checks of Rollouts and AnalysisRuns
// (rollout-health.lua and analysisrun-health.lua, installed by argocd-cm.yaml) and runs
// them as Argo CD runs a custom health check, so that tests can check them against the
// status the controller writes.
package argocd

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// The health checks, as installed by argocd-cm.yaml.
var (
	//go:embed rollout-health.lua
	RolloutHealth string
	//go:embed analysisrun-health.lua
	AnalysisRunHealth string
)

// Argo CD's health statuses.
const (
	Healthy     = "Healthy"
	Progressing = "Progressing"
	Suspended   = "Suspended"
	Degraded    = "Degraded"
	Missing     = "Missing"
	Unknown     = "Unknown"
)

// Health is what a health check returns.
type Health struct {
	Status  string
	Message string
}

// timeout is how long Argo CD lets a health check run.
const timeout = time.Second

// Evaluate runs a health check on an object (as unstructured content, the way Argo CD
// holds live objects) the way Argo CD runs a check from argocd-cm: in gopher-lua, with
// only the package, base and table libraries open (Argo CD adds a reduced os library,
// which these checks do not use, so a check that did fails here), the object as the
// global table obj, and the returned table's status and message as the result. Like
// Argo CD, it answers Unknown to a status Argo CD does not know.
func Evaluate(script string, object map[string]any) (Health, error) {
	l := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer l.Close()
	for name, open := range map[string]lua.LGFunction{
		lua.LoadLibName: lua.OpenPackage,
		lua.BaseLibName: lua.OpenBase,
		lua.TabLibName:  lua.OpenTable,
	} {
		if err := l.CallByParam(lua.P{Fn: l.NewFunction(open), NRet: 0, Protect: true}, lua.LString(name)); err != nil {
			return Health{}, fmt.Errorf("opening Lua library %q: %w", name, err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	l.SetContext(ctx)
	l.SetGlobal("obj", toLua(l, object))
	if err := l.DoString(script); err != nil {
		return Health{}, err
	}
	result, ok := l.Get(-1).(*lua.LTable)
	if !ok {
		return Health{}, fmt.Errorf("the health check returned %s, not a table", l.Get(-1).Type())
	}
	var h Health
	for field, into := range map[string]*string{"status": &h.Status, "message": &h.Message} {
		switch v := result.RawGetString(field).(type) {
		case lua.LString:
			*into = string(v)
		case *lua.LNilType:
		default:
			return Health{}, fmt.Errorf("the health check returned a %s as %s, not a string", v.Type(), field)
		}
	}
	switch h.Status {
	case Healthy, Progressing, Suspended, Degraded, Missing, Unknown:
		return h, nil
	}
	return Health{Status: Unknown, Message: "Lua returned an invalid health status"}, nil
}

// toLua converts unstructured content to Lua values as Argo CD does: maps and slices to
// tables, numbers to numbers (a json.Number to a string), nil and other types to nil.
func toLua(l *lua.LState, value any) lua.LValue {
	switch v := value.(type) {
	case map[string]any:
		t := l.CreateTable(0, len(v))
		for key, item := range v {
			t.RawSetString(key, toLua(l, item))
		}
		return t
	case []any:
		t := l.CreateTable(len(v), 0)
		for _, item := range v {
			t.Append(toLua(l, item))
		}
		return t
	case string:
		return lua.LString(v)
	case bool:
		return lua.LBool(v)
	case json.Number:
		return lua.LString(v)
	case int:
		return lua.LNumber(v)
	case int32:
		return lua.LNumber(v)
	case int64:
		return lua.LNumber(v)
	case float64:
		return lua.LNumber(v)
	}
	return lua.LNil
}
