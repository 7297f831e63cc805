// hello: a small Go service that honours the twelve factors, for `twelve audit`'s tests.
// Standard library only.
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

func required(name string) string {
	v := os.Getenv(name)
	if v == "" {
		fmt.Fprintf(os.Stderr, "hello: the environment variable %s is required\n", name)
		os.Exit(1)
	}
	return v
}

func main() {
	port := required("PORT")
	required("SECRET_KEY")
	logger := log.New(os.Stdout, "", 0)
	mux := http.NewServeMux()
	mux.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(time.Second)
		fmt.Fprintln(w, "slow")
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		http.NotFound(w, r)
	})
	logged := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		mux.ServeHTTP(w, r)
		logger.Printf("%s %s %s", r.Method, r.URL.RequestURI(), time.Since(start))
	})
	srv := &http.Server{Addr: "127.0.0.1:" + port, Handler: logged}

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	done := make(chan struct{})
	go func() {
		<-stop
		logger.Println("hello: SIGTERM, finishing the requests in flight")
		ctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			logger.Printf("hello: shutdown: %v", err)
		}
		close(done)
	}()
	logger.Printf("hello: listening on port %s", port)
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		fmt.Fprintf(os.Stderr, "hello: %v\n", err)
		os.Exit(1)
	}
	<-done
}
