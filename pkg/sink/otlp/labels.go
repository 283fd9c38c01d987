package otlp

import (
	"github.com/install-metrics/install-metrics/pkg/metrics"
	"github.com/install-metrics/install-metrics/pkg/record"
)

// closedLabels are the invocation's labels from their closed sets, exactly
// as the cluster_installation_invocation counter carries them: the
// counters' own normalisation, not a second copy of it.
func closedLabels(inv record.Invocation) Labels {
	l := Labels{}
	for _, s := range metrics.Samples(inv, metrics.SampleOptions{}) {
		if s.Name != metrics.InvocationFamily {
			continue
		}
		for _, lb := range s.Labels {
			l[lb.Name] = lb.Value
		}
		break
	}
	return l
}
