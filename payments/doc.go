// Package payments speaks the aggregated payment gateway's protocol: MD5
// signing and verification, a typed client for the pay and payout (trans)
// endpoints, notification parsing, payUrl helpers, and the gateway's
// reference data (pay products and payout bank codes). It uses the standard
// library only and knows nothing of the rest of Paydesk.
package payments
