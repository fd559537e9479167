# Sourced by the deploy scripts and tests/run (bash): running a command as
# root or as another user from an account with sudo, and free ports.

# Runs a command as root: directly when we are root, else through sudo
# (which may ask for the password).
as_root() {
	if [ "$(id -u)" = 0 ]; then
		"$@"
	else
		sudo -- "$@"
	fi
}

# Runs a command as USER (as_user USER CMD...). From /, because the caller's
# directory may be one USER cannot enter, such as a 0700 home.
as_user() {
	local user=$1
	shift
	(
		cd /
		if [ "$(id -un)" = "$user" ]; then
			"$@"
		elif [ "$(id -u)" = 0 ]; then
			runuser -u "$user" -- "$@"
		else
			sudo -u "$user" -- "$@"
		fi
	)
}

# Whether something listens on PORT of HOST (default 127.0.0.1).
port_busy() {
	(exec 3<>"/dev/tcp/${2:-127.0.0.1}/$1") 2>/dev/null
}

# A TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
