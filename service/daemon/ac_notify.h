/*
 * Telling the service manager how agricertd is doing (sd_notify(3), for the
 * unit's Type=notify in deploy/agricertd.service.in): ready once listening,
 * reloading while SIGHUP reloads the key rings, stopping on SIGTERM. The only
 * module that includes libsystemd.
 *
 * Without $NOTIFY_SOCKET (not started by systemd) every call does nothing.
 * Each is one datagram on a local socket, cheap enough for the loop thread.
 * Failures are ignored: the service runs the same whether or not anyone
 * listens. Loop thread only.
 */
#ifndef AC_NOTIFY_H
#define AC_NOTIFY_H

/* READY=1 with a STATUS= line, e.g. "listening on 127.0.0.1:8080". */
void ac_notify_ready(const char *status);

/* RELOADING=1 (with MONOTONIC_USEC, which newer systemd wants); READY=1 follows. */
void ac_notify_reloading(void);

/* STOPPING=1: no longer accepting, finishing what is in flight. */
void ac_notify_stopping(void);

#endif
