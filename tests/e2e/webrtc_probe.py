"""JavaScript the browser tests run in a page to read its peer connections' own statistics.

What a page claims about its calls proves nothing; ``RTCPeerConnection.getStats()``
does. Pages do not hand their connections out, so :data:`RECORD_PEER_CONNECTIONS`
(an init script, run before the page's own) keeps every connection the page makes —
the browser's own objects, unchanged. The other snippets are expressions (an async
IIFE each), so Playwright's ``page.evaluate`` and the Firefox driver's ``evaluate``
take them alike.
"""

from __future__ import annotations

RECORD_PEER_CONNECTIONS = """
window.recordedPeerConnections = [];
window.RTCPeerConnection = class extends window.RTCPeerConnection {
    constructor(...args) {
        super(...args);
        window.recordedPeerConnections.push(this);
    }
};
"""

# Waits until the page's first connection stands (or has given up), then reports its
# state, its ICE transport policy and the local candidate of the selected pair.
SELECTED_LOCAL_CANDIDATE = """(async () => {
    const pc = await new Promise((resolve) => {
        const look = () => {
            const found = window.recordedPeerConnections[0];
            if (found && ['connected', 'failed', 'closed'].includes(found.connectionState)) {
                resolve(found);
            } else {
                setTimeout(look, 50);
            }
        };
        look();
    });
    const result = {
        state: pc.connectionState,
        policy: pc.getConfiguration().iceTransportPolicy,
        local: null,
    };
    if (pc.connectionState !== 'connected') return result;
    const report = await pc.getStats();
    report.forEach((stat) => {
        if (stat.type === 'transport' && stat.selectedCandidatePairId) {
            const pair = report.get(stat.selectedCandidatePairId);
            const local = report.get(pair.localCandidateId);
            result.local = { type: local.candidateType, address: local.address, port: local.port };
        }
        // Firefox has no selectedCandidatePairId; it marks the pair itself.
        if (stat.type === 'candidate-pair' && stat.selected && stat.nominated) {
            const local = report.get(stat.localCandidateId);
            result.local = { type: local.candidateType, address: local.address, port: local.port };
        }
    });
    return result;
})()"""

# Video frames the page's first connection has decoded so far (0 before it exists).
FRAMES_DECODED = """(async () => {
    const pc = window.recordedPeerConnections[0];
    if (!pc || pc.connectionState === 'closed') return 0;
    let frames = 0;
    (await pc.getStats()).forEach((stat) => {
        if (stat.type === 'inbound-rtp' && stat.kind === 'video') frames += stat.framesDecoded || 0;
    });
    return frames;
})()"""
