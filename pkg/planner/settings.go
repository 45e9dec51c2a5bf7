package planner

import (
	"time"

	v1alpha1 "github.com/bluegreen-dev/bluegreen/api/v1alpha1"
)

// Defaults of the Rollout spec, applied when a field is unset (the CRD defaults most of
// them too; Plan does not rely on it).
const (
	defaultReplicas                    = 1
	defaultRevisionHistoryLimit        = 10
	defaultProgressDeadlineSeconds     = 600
	defaultScaleDownDelaySeconds       = 30
	defaultAbortScaleDownDelaySeconds  = 30
	defaultSuccessfulRunHistoryLimit   = 5
	defaultUnsuccessfulRunHistoryLimit = 5
)

// settings is the Rollout spec with every default resolved.
type settings struct {
	replicas                    int32
	previewReplicas             int32 // size of a revision in preview, before promotion
	revisionHistoryLimit        int32
	progressDeadline            time.Duration
	progressDeadlineAbort       bool
	paused                      bool
	activeService               string
	previewService              string
	autoPromotion               bool
	autoPromotionDelay          time.Duration
	scaleDownDelay              time.Duration
	scaleDownDelayRevisionLimit *int32 // nil: no limit
	abortScaleDownDelay         time.Duration
	rollbackWindow              int32
	successfulRunLimit          int
	unsuccessfulRunLimit        int
	pre, post                   *v1alpha1.RolloutAnalysis
	antiAffinity                *v1alpha1.AntiAffinity
	activeMetadata              *v1alpha1.PodTemplateMetadata
	previewMetadata             *v1alpha1.PodTemplateMetadata
}

func resolveSettings(spec *v1alpha1.RolloutSpec) settings {
	bg := spec.Strategy.BlueGreen
	if bg == nil {
		bg = &v1alpha1.BlueGreenStrategy{}
	}
	s := settings{
		replicas:                    valueOr(spec.Replicas, defaultReplicas),
		revisionHistoryLimit:        valueOr(spec.RevisionHistoryLimit, defaultRevisionHistoryLimit),
		progressDeadline:            seconds(valueOr(spec.ProgressDeadlineSeconds, defaultProgressDeadlineSeconds)),
		progressDeadlineAbort:       spec.ProgressDeadlineAbort,
		paused:                      spec.Paused,
		activeService:               bg.ActiveService,
		previewService:              bg.PreviewService,
		autoPromotion:               bg.AutoPromotionEnabled == nil || *bg.AutoPromotionEnabled,
		autoPromotionDelay:          seconds(bg.AutoPromotionSeconds),
		scaleDownDelay:              seconds(valueOr(bg.ScaleDownDelaySeconds, defaultScaleDownDelaySeconds)),
		abortScaleDownDelay:         seconds(valueOr(bg.AbortScaleDownDelaySeconds, defaultAbortScaleDownDelaySeconds)),
		scaleDownDelayRevisionLimit: bg.ScaleDownDelayRevisionLimit,
		pre:                         bg.PrePromotionAnalysis,
		post:                        bg.PostPromotionAnalysis,
		antiAffinity:                bg.AntiAffinity,
		activeMetadata:              bg.ActiveMetadata,
		previewMetadata:             bg.PreviewMetadata,
		successfulRunLimit:          defaultSuccessfulRunHistoryLimit,
		unsuccessfulRunLimit:        defaultUnsuccessfulRunHistoryLimit,
	}
	s.previewReplicas = valueOr(bg.PreviewReplicaCount, s.replicas)
	if spec.RollbackWindow != nil {
		s.rollbackWindow = spec.RollbackWindow.Revisions
	}
	if a := spec.Analysis; a != nil {
		s.successfulRunLimit = int(valueOr(a.SuccessfulRunHistoryLimit, defaultSuccessfulRunHistoryLimit))
		s.unsuccessfulRunLimit = int(valueOr(a.UnsuccessfulRunHistoryLimit, defaultUnsuccessfulRunHistoryLimit))
	}
	return s
}

// pausesBeforeSwitch reports whether a new revision waits for promotion before the switch.
func (s settings) pausesBeforeSwitch() bool {
	return !s.autoPromotion || s.autoPromotionDelay > 0
}

func valueOr(p *int32, def int32) int32 {
	if p == nil {
		return def
	}
	return *p
}

func seconds(n int32) time.Duration { return time.Duration(n) * time.Second }

func ptr[T any](v T) *T { return &v }
