import CARPCore
import CARPInstance

extension Daemon {
    /// Sends one advertisement: its CARP header to every `--peer` over the unicast socket, or
    /// else a whole frame through the capture, with a random IP identification.
    func sendAdvertisement(advbase: UInt8, advskew: UInt8, counter: UInt64) throws(DaemonError) {
        if let unicast {
            try unicast.send(codec.header(advbase: advbase, advskew: advskew, counter: counter))
        } else {
            try capture.send(
                codec.frame(
                    advbase: advbase, advskew: advskew, counter: counter,
                    ipIdentification: UInt16.random(in: .min ... .max, using: &random)))
        }
    }
}
