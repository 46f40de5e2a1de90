# Sourced: kvm_need, the KVM precondition of the tests (and benchmarks) that
# boot a guest.  Exits 77 with the reason when this machine has no usable
# KVM.  It probes the node without creating it: a bare `exec 3<>/dev/kvm`
# (O_CREAT) leaves an empty regular file behind on a machine without KVM,
# and every later run then finds a "/dev/kvm" that is not the device.
kvm_need() {
	if [ ! -e /dev/kvm ]; then
		echo "no /dev/kvm on this machine: booting a guest needs KVM" >&2
		exit 77
	fi
	if [ ! -c /dev/kvm ]; then
		echo "/dev/kvm is not a character device (a stray file?): booting a guest needs KVM" >&2
		exit 77
	fi
	if ! (exec 3<>/dev/kvm) 2>/dev/null; then
		echo "cannot open /dev/kvm read-write: booting a guest needs KVM" >&2
		exit 77
	fi
}
