package payments

import (
	"errors"
	"fmt"
	"testing"
)

// A definite FAIL saying the merchant number is used is a duplicate in
// whichever words the gateway uses; a system error (0010) and other
// refusals are not.
func TestIsDuplicateNumber(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&GatewayError{RetCode: "FAIL", RetMsg: "商户订单号重复[mchTransOrderNo=PD1]"}, true},
		{&GatewayError{RetCode: "FAIL", RetMsg: "订单已存在"}, true},
		{&GatewayError{RetCode: "FAIL", RetMsg: "FAIL", ErrDes: "order exists already"}, true},
		{fmt.Errorf("create payout: %w", &GatewayError{RetCode: "FAIL", RetMsg: "Order already EXISTS"}), true},
		{&GatewayError{RetCode: "FAIL", RetMsg: "账户号无效"}, false},
		{&UnclearError{Op: "create payout", Reason: ReasonGatewaySystem, Err: &GatewayError{RetCode: "FAIL", ErrCode: "0010", RetMsg: "订单已存在"}}, false},
		{errors.New("订单重复"), false},
		{nil, false},
	}
	for _, tt := range tests {
		if got := IsDuplicateNumber(tt.err); got != tt.want {
			t.Errorf("IsDuplicateNumber(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}
