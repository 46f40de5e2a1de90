# Sourced: the KVM precondition of the tests, benchmarks and demo that boot a
# guest on this host.  Both probe the node without creating it: a bare
# `exec 3<>/dev/kvm` (O_CREAT) leaves an empty regular file behind on a
# machine without KVM, and every later run then finds a "/dev/kvm" that is
# not the device.
#   kvm_usable   0 when /dev/kvm is a character device that opens read-write;
#                else 1 with the reason in KVM_WHY
#   kvm_need     kvm_usable, or exit 77 with the reason (for tests)
kvm_usable() {
	if [ ! -e /dev/kvm ]; then
		KVM_WHY="no /dev/kvm on this machine"
	elif [ ! -c /dev/kvm ]; then
		KVM_WHY="/dev/kvm is not a character device (a stray file?)"
	elif ! (exec 3<>/dev/kvm) 2>/dev/null; then
		KVM_WHY="cannot open /dev/kvm read-write"
	else
		return 0
	fi
	return 1
}

kvm_need() {
	kvm_usable && return 0
	echo "$KVM_WHY: booting a guest needs KVM" >&2
	exit 77
}
