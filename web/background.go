package web

import (
	"context"
	"sync"
)

// background runs the server's long-lived work (the reconciler, bulk
// resend jobs, the WAL checkpointer, housekeeping) and stops it on Close.
type background struct {
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	jobs   map[int64]context.CancelFunc // running resend jobs
}

func newBackground(s *Server) *background {
	ctx, cancel := context.WithCancel(context.Background())
	return &background{ctx: ctx, cancel: cancel, jobs: map[int64]context.CancelFunc{}}
}

// start runs f in a goroutine that Close waits for. f must return when ctx ends.
func (b *background) start(f func(ctx context.Context)) {
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		f(b.ctx)
	}()
}

func (b *background) close() {
	b.cancel()
	b.wg.Wait()
}
