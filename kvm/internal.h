/* SPDX-License-Identifier: MIT */
#ifndef KVM_INTERNAL_H
#define KVM_INTERNAL_H

#include <stdarg.h>
#include <stdio.h>
#include <kvm/kvm.h>

#define kvm_seterr(buf, ...) snprintf((buf), sizeof(buf), __VA_ARGS__)

#endif
