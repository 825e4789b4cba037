package web

import (
	"fmt"
	"time"
)

// waitText renders a wait in whole seconds, rounded up: "3 s".
func waitText(d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	return fmt.Sprintf("%d s", max(secs, 1))
}
