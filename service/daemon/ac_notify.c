#include <systemd/sd-daemon.h>
#include <time.h>

#include "ac_notify.h"

void ac_notify_ready(const char *status)
{
	sd_notifyf(0, "READY=1\nSTATUS=%s", status);
}

void ac_notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nSTATUS=reloading keys\nMONOTONIC_USEC=%llu",
		   (unsigned long long)ts.tv_sec * 1000000ULL +
		       (unsigned long long)ts.tv_nsec / 1000ULL);
}

void ac_notify_stopping(void)
{
	sd_notify(0, "STOPPING=1\nSTATUS=stopping: finishing what is in flight");
}
