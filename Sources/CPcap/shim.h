#ifndef SWIFTCARP_CPCAP_SHIM_H
#define SWIFTCARP_CPCAP_SHIM_H
#include <pcap/pcap.h>
#endif
