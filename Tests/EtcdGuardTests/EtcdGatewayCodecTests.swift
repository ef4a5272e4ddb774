import Testing

@testable import EtcdGuard

@Suite struct EtcdGatewayCodecTests {
    let key = "/swiftcarp/7/192.0.2.100"

    private func decode(_ call: EtcdCall, _ answer: (Int, String)) throws(EtcdGatewayError) -> EtcdResponse {
        try EtcdGatewayCodec.decode(call, status: answer.0, body: Array(answer.1.utf8))
    }

    private func text(_ call: EtcdCall) -> String { String(decoding: EtcdGatewayCodec.body(of: call), as: UTF8.self) }

    @Test func grantAsksForTheTTLAsAnInt64String() {
        #expect(text(.grant(ttl: 3)) == #"{"TTL":"3"}"#)
        #expect(EtcdCall.grant(ttl: 3).path == "/v3/lease/grant")
    }

    @Test func acquireCreatesTheKeyOnlyIfAbsentBoundToTheLeaseAndReadsItOtherwise() {
        let body = text(.acquire(key: key, value: "192.0.2.1 hostA", lease: 8_061_340_188_859_377_669))
        #expect(
            body
                == #"{"compare":[{"create_revision":"0","key":"L3N3aWZ0Y2FycC83LzE5Mi4wLjIuMTAw","target":"CREATE"}],"#
                + #""failure":[{"request_range":{"key":"L3N3aWZ0Y2FycC83LzE5Mi4wLjIuMTAw"}}],"#
                + #""success":[{"request_put":{"key":"L3N3aWZ0Y2FycC83LzE5Mi4wLjIuMTAw","lease":"8061340188859377669","#
                + #""value":"MTkyLjAuMi4xIGhvc3RB"}}]}"#)
        #expect(EtcdCall.acquire(key: key, value: "", lease: 1).path == "/v3/kv/txn")
    }

    @Test func aReadAsksForTheKeyAndNamesItsHolderOrNone() throws {
        #expect(text(.read(key: key)) == #"{"key":"L3N3aWZ0Y2FycC83LzE5Mi4wLjIuMTAw"}"#)
        #expect(EtcdCall.read(key: key).path == "/v3/kv/range")
        #expect(try decode(.read(key: key), CapturedEtcdAnswers.rangeAbsent) == .held(by: nil))
        #expect(
            try decode(.read(key: key), CapturedEtcdAnswers.rangeHeld)
                == .held(by: EtcdKeyHolder(value: "192.0.2.1 hostA", lease: 3_777_009_571_123_792_645)))
    }

    @Test func keepAliveRevokeAndAuthenticateBodies() {
        #expect(text(.keepAlive(lease: 42)) == #"{"ID":"42"}"#)
        #expect(text(.revoke(lease: 42)) == #"{"ID":"42"}"#)
        #expect(text(.authenticate(user: "carp", password: "p\"w")) == #"{"name":"carp","password":"p\"w"}"#)
    }

    @Test func grantAnswerGivesTheLeaseAndTheTTLEtcdChose() throws {
        #expect(
            try decode(.grant(ttl: 3), CapturedEtcdAnswers.grant) == .granted(lease: 8_061_340_188_859_377_669, ttl: 3))
        #expect(
            try decode(.grant(ttl: 1), CapturedEtcdAnswers.grantRaisedToMinimum)
                == .granted(lease: 8_061_340_188_859_377_705, ttl: 2))
    }

    @Test func succeededTransactionTookTheKey() throws {
        #expect(try decode(.acquire(key: key, value: "v", lease: 1), CapturedEtcdAnswers.txnSucceeded) == .acquired)
    }

    @Test func failedTransactionHasNoSucceededFieldAndNamesTheHolder() throws {
        let holder = EtcdKeyHolder(value: "192.0.2.1 hostA", lease: 8_061_340_188_859_377_669)
        #expect(
            try decode(.acquire(key: key, value: "v", lease: 1), CapturedEtcdAnswers.txnFailedHeld) == .held(by: holder)
        )
    }

    @Test func failedTransactionWhoseKeyVanishedHasNoHolder() throws {
        let body = #"{"header":{"revision":"9"},"responses":[{"response_range":{"header":{"revision":"9"}}}]}"#
        #expect(try decode(.acquire(key: key, value: "v", lease: 1), (200, body)) == .held(by: nil))
    }

    @Test func holderWithAValueThatIsNotBase64IsMalformed() {
        let body = #"{"responses":[{"response_range":{"kvs":[{"key":"eA==","value":"not base64!","lease":"1"}]}}]}"#
        #expect(throws: EtcdGatewayError.self) { try decode(.acquire(key: key, value: "v", lease: 1), (200, body)) }
    }

    @Test func keepAliveOnALivingLeaseRenews() throws {
        #expect(try decode(.keepAlive(lease: 1), CapturedEtcdAnswers.keepAliveAlive) == .renewed(ttl: 3))
    }

    @Test func timeToLiveGivesTheWholeSecondsLeftZeroWhenLeftOutAndMinusOneWhenGone() throws {
        #expect(text(.timeToLive(lease: 42)) == #"{"ID":"42"}"#)
        #expect(EtcdCall.timeToLive(lease: 42).path == "/v3/lease/timetolive")
        let call = EtcdCall.timeToLive(lease: 4_111_120_495_059_692_805)
        #expect(try decode(call, CapturedEtcdAnswers.timeToLiveOneSecond) == .timeToLive(seconds: 1))
        #expect(try decode(call, CapturedEtcdAnswers.timeToLiveUnderASecond) == .timeToLive(seconds: 0))
        #expect(try decode(call, CapturedEtcdAnswers.timeToLiveGone) == .timeToLive(seconds: -1))
    }

    @Test func keepAliveAnsweredWithoutTTLMeansTheLeaseIsGone() throws {
        #expect(try decode(.keepAlive(lease: 1), CapturedEtcdAnswers.keepAliveExpired) == .leaseGone)
    }

    @Test func revokeAnswerIsAHeaderAlone() throws {
        #expect(try decode(.revoke(lease: 1), CapturedEtcdAnswers.revoked) == .revoked)
    }

    @Test func authenticateGivesTheToken() throws {
        #expect(
            try decode(.authenticate(user: "carp", password: "carppw"), CapturedEtcdAnswers.authenticated)
                == .authenticated(token: "YZHecRONpzJBnEKG.27"))
    }

    @Test func deadLeaseErrorsAreLeaseNotFound() {
        for answer in [
            CapturedEtcdAnswers.txnOnDeadLease, CapturedEtcdAnswers.putOnDeadLease,
            CapturedEtcdAnswers.revokeUnknownLease,
        ] {
            #expect {
                try decode(.acquire(key: key, value: "v", lease: 1), answer)
            } throws: { error in
                (error as? EtcdGatewayError).map { $0.isLeaseNotFound && !$0.isInvalidToken } ?? false
            }
        }
        #expect(
            throws: EtcdGatewayError.server(status: 404, code: 5, message: "etcdserver: requested lease not found")
        ) { try decode(.revoke(lease: 1), CapturedEtcdAnswers.revokeUnknownLease) }
    }

    @Test func authenticationErrorsCarryTheirGRPCCodes() {
        #expect(
            throws: EtcdGatewayError.server(
                status: 400, code: 3, message: "etcdserver: authentication failed, invalid user ID or password")
        ) { try decode(.authenticate(user: "carp", password: "wrong"), CapturedEtcdAnswers.authenticationFailed) }
        #expect {
            try decode(.grant(ttl: 3), CapturedEtcdAnswers.invalidToken)
        } throws: { error in
            (error as? EtcdGatewayError)?.isInvalidToken ?? false
        }
        #expect(
            throws: EtcdGatewayError.server(status: 400, code: 3, message: "etcdserver: user name is empty")
        ) { try decode(.acquire(key: key, value: "v", lease: 1), CapturedEtcdAnswers.userNameEmpty) }
        #expect(throws: EtcdGatewayError.server(status: 403, code: 7, message: "etcdserver: permission denied")) {
            try decode(.acquire(key: key, value: "v", lease: 1), CapturedEtcdAnswers.permissionDenied)
        }
        #expect(
            throws: EtcdGatewayError.server(status: 400, code: 3, message: "illegal base64 data at input byte 3")
        ) { try decode(.acquire(key: key, value: "v", lease: 1), CapturedEtcdAnswers.badBase64) }
    }

    @Test func bodiesThatAreNotEtcdsAreMalformed() {
        #expect(throws: EtcdGatewayError.malformed(status: 404, reason: "no etcd error body: Not Found")) {
            try decode(.grant(ttl: 3), CapturedEtcdAnswers.notFoundPath)
        }
        #expect(throws: EtcdGatewayError.self) { try decode(.grant(ttl: 3), (200, "{\"header\":{}}")) }
        #expect(throws: EtcdGatewayError.self) { try decode(.grant(ttl: 3), (200, "{\"ID\":\"12x\",\"TTL\":\"3\"}")) }
        #expect(throws: EtcdGatewayError.self) { try decode(.keepAlive(lease: 1), (200, "")) }
        #expect(throws: EtcdGatewayError.self) { try decode(.authenticate(user: "u", password: "p"), (200, "{}")) }
    }
}
