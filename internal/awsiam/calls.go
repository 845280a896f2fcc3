package awsiam

import (
	"context"
	"maps"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
)

// Calls counts AWS API calls by operation name. A call is counted once
// however many times the SDK retries it; Attempts counts the retries too.
type Calls struct {
	mu       sync.Mutex
	calls    map[string]int
	attempts map[string]int
}

// NewCalls returns an empty counter.
func NewCalls() *Calls {
	return &Calls{calls: map[string]int{}, attempts: map[string]int{}}
}

// Counts returns a copy of the call counts.
func (c *Calls) Counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.calls)
}

// Attempts returns a copy of the attempt counts (calls plus retries).
func (c *Calls) Attempts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.attempts)
}

// Total is the number of calls.
func (c *Calls) Total() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, v := range c.calls {
		n += v
	}
	return n
}

func (c *Calls) add(m map[string]int, op string) {
	c.mu.Lock()
	m[op]++
	c.mu.Unlock()
}

// attach adds the counting middleware to every client built from cfg.
func (c *Calls) attach(cfg *aws.Config) {
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		err := stack.Initialize.Add(middleware.InitializeMiddlewareFunc("iamgroupsCountCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				c.add(c.calls, middleware.GetOperationName(ctx))
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
		if err != nil {
			return err
		}
		// Finalize runs once per attempt, after the retry middleware.
		return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("iamgroupsCountAttempts",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				c.add(c.attempts, middleware.GetOperationName(ctx))
				return next.HandleFinalize(ctx, in)
			}), middleware.After)
	})
}
