package metrics_test

import (
	"fmt"
	"time"

	"github.com/install-metrics/install-metrics/pkg/metrics"
)

// ExampleBucket shows the duration bucket rule with the default step.
func ExampleBucket() {
	for _, d := range []time.Duration{0, 2*time.Minute + 30*time.Second, 25 * time.Minute, 25*time.Minute + time.Second} {
		fmt.Println(d, metrics.Bucket(d, metrics.DefaultBucket))
	}
	// Output:
	// 0s 2.5
	// 2m30s 2.5
	// 25m0s 25
	// 25m1s 27.5
}
