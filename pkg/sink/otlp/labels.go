package otlp

import (
	"github.com/install-metrics/install-metrics/pkg/push"
	"github.com/install-metrics/install-metrics/pkg/record"
)

// closedLabels are the invocation's labels from their closed sets, exactly
// as the cluster_installation_invocation counter carries them: the
// counters' own normalisation, not a second copy of it.
//
// After the split of pkg/push this calls pkg/metrics instead (pkg/push will
// import this package, so it cannot be imported from here).
func closedLabels(inv record.Invocation) Labels {
	l := Labels{}
	for _, s := range push.Samples(inv, push.SampleOptions{}) {
		if s.Name != push.InvocationFamily {
			continue
		}
		for _, lb := range s.Labels {
			l[lb.Name] = lb.Value
		}
		break
	}
	return l
}
