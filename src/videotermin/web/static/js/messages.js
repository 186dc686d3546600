// @ts-check
/**
 * The messages of the signaling protocol (docs/signaling.md; their JSON
 * schemas: docs/signaling-schemas.md), as JSDoc types: no code, only the
 * shapes `ServerConnection` (protocol.js) sends and hears, and the call
 * (call.js) relies on. They mirror the server's models in
 * src/videotermin/realtime/protocol.py.
 */

/**
 * @typedef {'cancelled'|'ended'|'consent_withdrawn'|'consent_declined'|'consent_needed'|'before_window'|'window_open'} JourneyState
 *
 * @typedef {object} WaitingMessageText
 * @property {string} text shown as text, never as HTML
 * @property {string} at ISO 8601 time the advisor sent it
 *
 * @typedef {object} CitizenHello
 * @property {'hello'} type
 * @property {number} version
 * @property {'citizen'} [role]
 *
 * @typedef {object} StaffHello
 * @property {'hello'} type
 * @property {number} version
 * @property {'staff'} [role]
 * @property {string[]} [watch] the appointments the page shows
 * @property {'agenda'|'appointment'} [view]
 *
 * @typedef {object} CallHello the advisor's hello on /ws/call/<appointment id>
 * @property {'hello'} type
 * @property {number} version
 * @property {'advisor'} [role]
 *
 * @typedef {object} SupportHello a supporter's live view of one participant (/ws/support)
 * @property {'hello'} type
 * @property {number} version
 * @property {'support'} [role]
 * @property {string} participant the participant the same supporter looked up
 *
 * @typedef {CitizenHello|StaffHello|CallHello|SupportHello} HelloMessage
 *
 * @typedef {object} CitizenWelcome
 * @property {'welcome'} type
 * @property {number} version
 * @property {'citizen'} role
 * @property {number} ping_interval seconds
 * @property {string} waiting_since
 * @property {WaitingMessageText|null} message
 *
 * @typedef {object} StaffWelcome
 * @property {'welcome'} type
 * @property {number} version
 * @property {'staff'} role
 * @property {number} ping_interval seconds
 * @property {string[]} watching the appointments the server will report on
 *
 * @typedef {object} CallWelcome the advisor's call socket; `admitted` and `waiting` follow
 * @property {'welcome'} type
 * @property {number} version
 * @property {'advisor'} role
 * @property {number} ping_interval seconds
 *
 * @typedef {object} PongMessage
 * @property {'pong'} type
 * @property {number|null} id
 *
 * @typedef {object} AdvisorMessage
 * @property {'message'} type
 * @property {WaitingMessageText|null} message null: the advisor removed it
 *
 * @typedef {object} StateMessage
 * @property {'state'} type
 * @property {JourneyState} state
 *
 * @typedef {object} ReplacedMessage
 * @property {'replaced'} type
 *
 * @typedef {object} ErrorMessage
 * @property {'error'} type
 * @property {string} code
 * @property {string} message
 * @property {string|null} ref
 *
 * @typedef {object} ParticipantMessage
 * @property {'participant'} type
 * @property {string} appointment_id
 * @property {string} participant_id
 * @property {string} html the row, rendered by the server; empty: remove the row
 * @property {string|null} waiting_since
 * @property {boolean} entered
 * @property {string|null} notice
 *
 * --- the call ---
 *
 * @typedef {object} SessionDescriptionInit as RTCSessionDescription.toJSON() gives it
 * @property {'offer'|'answer'} type
 * @property {string} sdp
 *
 * @typedef {object} IceCandidateInit as RTCIceCandidate.toJSON() gives it
 * @property {string} candidate
 * @property {string|null} [sdpMid]
 * @property {number|null} [sdpMLineIndex]
 * @property {string|null} [usernameFragment]
 *
 * @typedef {object} IceServer one entry of RTCConfiguration.iceServers
 * @property {string[]} urls
 * @property {string|null} username TURN only (short-lived REST credential)
 * @property {string|null} credential TURN only
 *
 * @typedef {object} Peer someone in the call
 * @property {string} id opaque, stable for this person for the whole call
 * @property {string} name plain text: show it as text, never as HTML
 * @property {string} role 'advisor', 'citizen', 'interpreter', …
 * @property {boolean} audio microphone on
 * @property {boolean} video camera on
 * @property {boolean} screen sharing the screen
 * @property {'connected'|'reconnecting'} connection
 *
 * @typedef {object} AdmittedMessage you are in the call
 * @property {'admitted'} type
 * @property {string} self your own peer id
 * @property {IceServer[]} ice_servers made at this moment; use them for every peer connection
 * @property {'all'|'relay'} ice_transport_policy pass as RTCConfiguration.iceTransportPolicy
 * @property {Peer[]} peers everyone else in the call
 * @property {number} max_participants mesh limit, including the advisor
 *
 * @typedef {object} PeerJoinedMessage someone joined, or rejoined after a drop: (re)create that pair
 * @property {'peer_joined'} type
 * @property {Peer} peer
 *
 * @typedef {object} PeerUpdatedMessage media or connection state changed
 * @property {'peer_updated'} type
 * @property {Peer} peer
 *
 * @typedef {object} PeerLeftMessage
 * @property {'peer_left'} type
 * @property {string} id
 * @property {'left'|'removed'} reason
 *
 * @typedef {object} SignalFromMessage negotiation from a peer; `from` is set by the server
 * @property {'signal'} type
 * @property {string} from
 * @property {SessionDescriptionInit|null} description
 * @property {IceCandidateInit|null} candidate used when description is null; null: end of candidates
 *
 * @typedef {object} ChatFromMessage a chat line (your own ones come back too)
 * @property {'chat'} type
 * @property {string} from peer id
 * @property {string} name plain text
 * @property {string} role
 * @property {string} text plain text
 * @property {string} at ISO 8601
 *
 * @typedef {object} RemovedMessage the advisor removed you; the close (CLOSE_CODES.REMOVED) follows
 * @property {'removed'} type
 *
 * @typedef {object} WaitingPerson
 * @property {string} id participant id (what `admit` takes)
 * @property {string} name plain text
 * @property {string} role
 * @property {string} since ISO 8601
 * @property {'green'|'yellow'|'red'|null} verdict latest device check
 *
 * @typedef {object} WaitingMessage advisor's call socket: who waits, whenever that changes
 * @property {'waiting'} type
 * @property {WaitingPerson[]} participants
 *
 * @typedef {object} SupportWelcome
 * @property {'welcome'} type
 * @property {number} version
 * @property {'support'} role
 * @property {number} ping_interval
 *
 * @typedef {object} SupportMessage the participant's details, rendered by the server
 * @property {'support'} type
 * @property {string} html
 * @property {boolean} problem stuck at a device failure right now
 *
 * @typedef {CitizenWelcome|StaffWelcome|CallWelcome|SupportWelcome|SupportMessage|PongMessage|AdvisorMessage|StateMessage|ReplacedMessage|ErrorMessage|ParticipantMessage|AdmittedMessage|PeerJoinedMessage|PeerUpdatedMessage|PeerLeftMessage|SignalFromMessage|ChatFromMessage|RemovedMessage|WaitingMessage} ServerMessage
 *
 * @typedef {object} ServerMessageMap server messages by type, for `on(type, handler)`
 * @property {CitizenWelcome|StaffWelcome|CallWelcome|SupportWelcome} welcome
 * @property {SupportMessage} support
 * @property {PongMessage} pong
 * @property {AdvisorMessage} message
 * @property {StateMessage} state
 * @property {ReplacedMessage} replaced
 * @property {ErrorMessage} error
 * @property {ParticipantMessage} participant
 * @property {AdmittedMessage} admitted
 * @property {PeerJoinedMessage} peer_joined
 * @property {PeerUpdatedMessage} peer_updated
 * @property {PeerLeftMessage} peer_left
 * @property {SignalFromMessage} signal
 * @property {ChatFromMessage} chat
 * @property {RemovedMessage} removed
 * @property {WaitingMessage} waiting
 *
 * @typedef {object} ClientMessageMap the fields of client messages by type, for `send(type, fields)`
 * @property {{participant: string}} admit advisor only: a participant id or 'all'
 * @property {{participant: string}} remove advisor only: a peer id or a participant id
 * @property {Record<string, never>} end advisor only
 * @property {Record<string, never>} leave hang up
 * @property {{to: string, description: SessionDescriptionInit} | {to: string, candidate: IceCandidateInit|null}} signal
 * @property {{audio: boolean, video: boolean, screen: boolean}} media
 * @property {{text: string}} chat 1 to MAX_CHAT characters (constants.js)
 * @property {{good: number, fair: number, poor: number}} quality measurements since the last report
 */

export {};
