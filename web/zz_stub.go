package web

import "net/http"

func (s *Server) ordersPage(w http.ResponseWriter, r *http.Request) error      { return errNotFound }
func (s *Server) lookupOrder(w http.ResponseWriter, r *http.Request) error     { return errNotFound }
func (s *Server) orderPage(w http.ResponseWriter, r *http.Request) error       { return errNotFound }
func (s *Server) orderTimeline(w http.ResponseWriter, r *http.Request) error   { return errNotFound }
func (s *Server) resendOrder(w http.ResponseWriter, r *http.Request) error     { return errNotFound }
func (s *Server) bulkResend(w http.ResponseWriter, r *http.Request) error      { return errNotFound }
func (s *Server) resendJobPage(w http.ResponseWriter, r *http.Request) error   { return errNotFound }
func (s *Server) cancelResendJob(w http.ResponseWriter, r *http.Request) error { return errNotFound }
func (s *Server) notificationsPage(w http.ResponseWriter, r *http.Request) error {
	return errNotFound
}
func (s *Server) notificationPage(w http.ResponseWriter, r *http.Request) error { return errNotFound }
func (s *Server) ackAlert(w http.ResponseWriter, r *http.Request) error         { return errNotFound }
