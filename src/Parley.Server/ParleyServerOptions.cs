using System.Net;
using Parley.Protocol.Framing;
using Parley.Protocol.Security;

namespace Parley.Server;

/// <summary>
/// Every limit the server enforces, each with its default (CONVENTIONS.md habit 5). The command line maps
/// one flag to each; README.md lists them. Unbounded buffering "is a security risk given untrusted clients"
/// (Kestrel), so nothing here is unlimited.
/// </summary>
public sealed record ParleyServerOptions
{
    /// <summary>Directory holding <c>parley.db</c>.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Address for both listeners. Loopback by default: exposing the server is a deliberate choice.</summary>
    public IPAddress Address { get; init; } = IPAddress.Loopback;

    /// <summary>UDP port for HELLO/CHALLENGE/RESPONSE (seed 001 steps 1–3). 0 picks a free port.</summary>
    public int UdpPort { get; init; } = 5300;

    /// <summary>TCP port announced in AUTH_SUCCESS as port_number. 0 picks a free port.</summary>
    public int TcpPort { get; init; } = 5300;

    /// <summary>
    /// The TCP port AUTH_SUCCESS announces instead of the bound one, when a port forward or TCP proxy stands between
    /// clients and the server; 0 announces the bound port.
    /// </summary>
    public int AdvertisedTcpPort { get; init; }

    /// <summary>
    /// Unix-domain socket for <c>parley admin</c> (issue #7): the console's commands from another shell. Created mode
    /// 0600, so only the server's own user (and root) may use it; null for none.
    /// </summary>
    public string? AdminSocketPath { get; init; }

    /// <summary>
    /// Loopback TCP port serving Prometheus text at <c>/metrics</c> and <c>/healthz</c> (issue #7); 0 picks a free
    /// port, null (the default) serves none. Always bound to 127.0.0.1: metrics are for the operator, not the internet.
    /// </summary>
    public int? MetricsPort { get; init; }

    /// <summary>
    /// How long a graceful shutdown (TERMINATE, SIGINT, SIGTERM) may take: requests in progress finish, sessions end
    /// with END_NOTIF, every client is told, queued history is committed. Connections still open at the end are cut.
    /// </summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>PBKDF2 iterations for new verifiers and for the fake challenges of unknown IDs.</summary>
    public int ScramIterations { get; init; } = Scram.DefaultIterations;

    /// <summary>How long a CHALLENGE may go unanswered.</summary>
    public TimeSpan ChallengeTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a rand_cookie stays redeemable after AUTH_SUCCESS.</summary>
    public TimeSpan CookieLifetime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Unanswered challenges held at once, server-wide; more HELLOs get SERVER_BUSY.</summary>
    public int MaxPendingHandshakes { get; init; } = 4096;

    /// <summary>Unanswered challenges held for one source address; more HELLOs get RATE_LIMITED.</summary>
    public int MaxPendingHandshakesPerAddress { get; init; } = 16;

    /// <summary>Largest UDP datagram accepted; larger ones are dropped unanswered.</summary>
    public int MaxDatagramBytes { get; init; } = 1024;

    /// <summary>Largest TCP frame body; a larger header closes the connection with FRAME_TOO_LARGE.</summary>
    public int MaxFrameBytes { get; init; } = Frame.DefaultMaxBodyBytes;

    /// <summary>Largest chat message (UTF-8 bytes of the <c>message</c> field); larger gets MESSAGE_TOO_LARGE.</summary>
    public int MaxMessageBytes { get; init; } = 4096;

    /// <summary>Open TCP connections at once.</summary>
    public int MaxConnections { get; init; } = 10_000;

    /// <summary>
    /// TCP connections that have not yet sent a valid CONNECT, at once (issue #9: slowloris). Past it a new connection
    /// gets SERVER_BUSY and is closed at once, so half-open connections cannot take every slot of
    /// <see cref="MaxConnections"/>; each one also has only <see cref="ConnectTimeout"/> to finish.
    /// </summary>
    public int MaxUnauthenticatedConnections { get; init; } = 1000;

    /// <summary>
    /// <see cref="MaxUnauthenticatedConnections"/> for one source address (IPv6 per /64): one host cannot take every
    /// slot and so keep everyone else from logging on.
    /// </summary>
    public int MaxUnauthenticatedPerAddress { get; init; } = 16;

    /// <summary>
    /// Messages one connection may send per second, sustained (issue #9: a token bucket refilled at this rate). Every
    /// frame counts, PING included. A client past it gets ERROR RATE_LIMITED and is disconnected.
    /// </summary>
    public int MessagesPerSecond { get; init; } = 100;

    /// <summary>The token bucket's size: messages a connection may send at once before <see cref="MessagesPerSecond"/> applies.</summary>
    public int MessageBurst { get; init; } = 100;

    /// <summary>
    /// Bytes waiting to be sent to one client: its queued messages (estimated, <c>Connections/OutboundSize.cs</c>),
    /// places reserved for relays to it, and what is written but not yet taken by the socket. Replies to its own
    /// requests and relays to it wait while it is over half, as they do for <see cref="OutboundQueueCapacity"/>; a room
    /// line or notice, which never waits, that would pass it disconnects the client as a slow consumer, its queue
    /// dropped. The default holds a whole <see cref="MessageBurst"/> of the largest room lines, escaped, with room to
    /// spare, so one sender's burst cannot cut off a member who reads.
    /// </summary>
    public int MaxPendingOutboundBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>Messages queued for one client; a client that falls this far behind is disconnected.</summary>
    public int OutboundQueueCapacity { get; init; } = 1024;

    /// <summary>
    /// How long a sender waits for room in its peer's outbound queue before the peer is disconnected as too slow.
    /// Until then a fast sender is slowed to its peer's pace rather than getting a healthy peer cut off.
    /// </summary>
    public TimeSpan SlowConsumerTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time a new TCP connection has to send CONNECT.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Seed 001's activity timer: a client that sends nothing but keep-alives this long is logged off.</summary>
    public TimeSpan ActivityTimeout { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Clients PING this often; silence for three intervals means the peer is gone.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Chat messages waiting to be committed to history; senders wait when it is full.</summary>
    public int HistoryQueueCapacity { get; init; } = 4096;

    /// <summary>Most messages committed in one transaction.</summary>
    public int HistoryBatchSize { get; init; } = 256;

    /// <summary>Messages read from the store per page when answering HISTORY_REQ.</summary>
    public int HistoryPageSize { get; init; } = 256;

    /// <summary>
    /// Who may create accounts from the client (<see cref="Protocol.Messages.SignUpPolicies"/>). Open by default,
    /// as seeds 002 and 003 are: the server listens on loopback unless told otherwise, and an operator who exposes
    /// it chooses "invite" or "closed" with the same flag.
    /// </summary>
    public string SignUpPolicy { get; init; } = Protocol.Messages.SignUpPolicies.Open;

    /// <summary>Shortest password a client accepts for a new account or a new password (announced to clients; the server never sees passwords).</summary>
    public int MinPasswordLength { get; init; } = Protocol.Accounts.AccountRules.DefaultMinPasswordLength;

    /// <summary>Failed log-ons in a row that lock a client ID (seed 003 allows three attempts).</summary>
    public int LockoutThreshold { get; init; } = 3;

    /// <summary>The first lock; every further failure doubles it up to <see cref="LockoutMax"/>.</summary>
    public TimeSpan LockoutBase { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The longest lock.</summary>
    public TimeSpan LockoutMax { get; init; } = TimeSpan.FromHours(1);

    /// <summary>HELLOs one source address may send per minute (a burst of this many, refilled evenly); more get RATE_LIMITED.</summary>
    public int HellosPerMinutePerAddress { get; init; } = 30;

    /// <summary>Sign-up requests (checks and sign-ups) one source address may send per hour; more get RATE_LIMITED.</summary>
    public int SignUpsPerHourPerAddress { get; init; } = 10;

    /// <summary>
    /// Log lines about refused datagrams (junk, oversized, HELLO and sign-up floods) written at once; past it they are
    /// left out, counted, and the count is logged with the next line allowed (issue #9: a forged flood must not fill
    /// the disk). The metrics count every datagram regardless.
    /// </summary>
    public int RefusalLogBurst { get; init; } = 20;

    /// <summary>Such log lines allowed per second after the burst.</summary>
    public int RefusalLogPerSecond { get; init; } = 1;

    /// <summary>Source addresses tracked by the rate limits at once (IPv6 counts per /64); past it new addresses are refused.</summary>
    public int MaxTrackedAddresses { get; init; } = 100_000;

    /// <summary>Most users one LIST_RESP carries; a longer directory is cut and marked truncated.</summary>
    public int MaxDirectoryEntries { get; init; } = 500;

    /// <summary>
    /// <see cref="MaxDirectoryEntries"/>, lowered to what fits in one frame: an entry is at most 64 bytes of JSON
    /// ({"client_id":"&lt;32 characters&gt;","online":false},) and the rest of the record fits in 1 KiB.
    /// </summary>
    internal int DirectoryEntriesPerFrame => Math.Min(MaxDirectoryEntries, (MaxFrameBytes - 1024) / 64);

    /// <summary>
    /// Direct messages waiting for one recipient's client to acknowledge them (the offline queue, issue #4). A DM
    /// past it gets QUEUE_FULL and is not stored, so the sender knows; acknowledged ones free their place.
    /// </summary>
    public int MaxOfflineMessages { get; init; } = 1000;

    /// <summary>Most past direct messages one TALK replays (a client asking for more gets this many, the newest).</summary>
    public int MaxTalkMessages { get; init; } = 1000;

    /// <summary>Members of one room; a JOIN past it gets ROOM_FULL.</summary>
    public int MaxRoomMembers { get; init; } = 1000;

    /// <summary>Rooms one client may be in at once; a JOIN past it gets TOO_MANY_ROOMS.</summary>
    public int MaxRoomsPerClient { get; init; } = 20;

    /// <summary>Rooms that may exist at once (a room exists while it has members); a JOIN creating one more gets TOO_MANY_ROOMS.</summary>
    public int MaxRooms { get; init; } = 10_000;

    /// <summary>Most rooms one ROOM_LIST carries (the largest); the rest are counted as truncated.</summary>
    public int MaxRoomsListed { get; init; } = 100;

    /// <summary>
    /// Identity keys one user may publish over the account's life (issue #5). All are kept so old messages stay
    /// verifiable; a KEYS_PUT of one more gets TOO_MANY_KEYS. A user needs a new key only when their password is reset.
    /// </summary>
    public int MaxKeysPerUser { get; init; } = 32;

    /// <summary>
    /// <see cref="MaxKeysPerUser"/>, lowered to what one KEYS answer can carry: a key entry is at most 450 bytes of
    /// JSON (two base64 points, a signature, a fingerprint, a time) and the rest of the record fits in 1 KiB.
    /// </summary>
    internal int KeysPerUser => Math.Max(1, Math.Min(MaxKeysPerUser, (MaxFrameBytes - 1024) / 450));

    /// <summary>
    /// <see cref="MaxRoomsListed"/>, lowered to what fits in one frame: a room entry is at most 80 bytes of JSON
    /// ({"name":"#&lt;32 characters&gt;","members":100000,"joined":false},) and the rest of the record fits in 1 KiB.
    /// </summary>
    internal int RoomsPerFrame => Math.Min(MaxRoomsListed, (MaxFrameBytes - 1024) / 80);

    /// <summary>MESSAGE_TOO_LARGE for a CHAT, DM or SAY body over <see cref="MaxMessageBytes"/>; null if it fits.</summary>
    internal Protocol.Messages.Error? CheckMessageSize(string message) =>
        System.Text.Encoding.UTF8.GetByteCount(message) > MaxMessageBytes
            ? new Protocol.Messages.Error(Protocol.Messages.ErrorCodes.MessageTooLarge, $"Messages are limited to {MaxMessageBytes} bytes; yours was not sent.")
            : null;

    /// <summary>Senders whose unread counts CONNECTED lists (the most unread first): up to 100, fewer if the frame is small.</summary>
    internal int UnreadSendersPerFrame => Math.Min(100, (MaxFrameBytes - 1024) / 64);

    internal Storage.LockoutPolicy Lockout => new(LockoutThreshold, LockoutBase, LockoutMax);

    /// <summary>Throws with a sentence naming the first option out of range.</summary>
    public void Validate()
    {
        static void Check(bool ok, string message)
        {
            if (!ok)
            {
                throw new ArgumentException(message);
            }
        }

        Check(UdpPort is >= 0 and <= 65535, "--port must be between 0 and 65535.");
        Check(TcpPort is >= 0 and <= 65535, "--tcp-port must be between 0 and 65535.");
        Check(AdvertisedTcpPort is >= 0 and <= 65535, "--advertise-tcp-port must be between 0 and 65535.");
        Check(ScramIterations is >= Scram.MinimumIterations and <= Scram.MaximumIterations,
            $"--scram-iterations must be between {Scram.MinimumIterations} (RFC 7677) and {Scram.MaximumIterations} (what clients accept).");
        Check(MaxFrameBytes is >= 2048 and <= Frame.MaximumBodyBytes, $"--max-frame-bytes must be between 2048 and {Frame.MaximumBodyBytes}.");
        // JSON may escape every byte of a message as \uXXXX (6 bytes); the rest of a CHAT record fits in 1 KiB.
        Check(MaxMessageBytes > 0 && (long)MaxMessageBytes * 6 + 1024 <= MaxFrameBytes,
            $"--max-message-bytes must be between 1 and {(MaxFrameBytes - 1024) / 6} when --max-frame-bytes is {MaxFrameBytes} (JSON may escape each byte as \\uXXXX: 6 × the message + 1024 must fit in a frame).");
        // A SIGNUP with a 32-character ID and an invite code is about 700 bytes (docs/PROTOCOL.md §10.2).
        Check(MaxDatagramBytes >= 768, "--max-datagram-bytes must be at least 768 (a SIGNUP is up to about 700 bytes).");
        Check(OutboundQueueCapacity >= 16, "--outbound-queue must be at least 16.");
        Check(MaxConnections >= 1, "--max-connections must be at least 1.");
        Check(MaxUnauthenticatedConnections >= 1 && MaxUnauthenticatedPerAddress >= 1, "--max-unauthenticated and --max-unauthenticated-per-address must be at least 1.");
        Check(MessagesPerSecond >= 1 && MessageBurst >= 1, "--message-rate and --message-burst must be at least 1.");
        // Below half the limit a reply may still be queued; a frame on top of that must not cross the whole limit.
        Check(MaxPendingOutboundBytes >= 2L * MaxFrameBytes, $"--max-pending-bytes must be at least 2 × --max-frame-bytes ({2L * MaxFrameBytes}).");
        Check(MaxPendingHandshakes >= 1, "--max-pending-handshakes must be at least 1.");
        Check(MaxPendingHandshakesPerAddress >= 1, "--max-handshakes-per-address must be at least 1.");
        // CONNECTED announces these in whole seconds, so each must be at least one. The upper bounds keep every timer
        // the server arms with them well inside what .NET timers take (about 49 days), with room to spare.
        Check(ActivityTimeout >= TimeSpan.FromSeconds(1) && ActivityTimeout <= TimeSpan.FromDays(7), "--activity-timeout must be between 1 and 604800 seconds (7 days).");
        Check(KeepAliveInterval >= TimeSpan.FromSeconds(1) && KeepAliveInterval <= TimeSpan.FromHours(1), "--keepalive must be between 1 and 3600 seconds.");
        // A sender waiting for room does not read its own PINGs; it must not outlast the keep-alive deadline.
        Check(SlowConsumerTimeout > TimeSpan.Zero && SlowConsumerTimeout < 3 * KeepAliveInterval, $"--slow-consumer-timeout ({SlowConsumerTimeout.TotalSeconds:0.#} s) must be positive and under 3 × --keepalive ({3 * KeepAliveInterval.TotalSeconds:0.#} s); lower it too.");
        Check(ConnectTimeout > TimeSpan.Zero && ConnectTimeout <= TimeSpan.FromHours(1), "--connect-timeout must be more than 0 and at most 3600 seconds.");
        Check(CookieLifetime > TimeSpan.Zero && CookieLifetime <= TimeSpan.FromHours(1), "--cookie-lifetime must be more than 0 and at most 3600 seconds.");
        Check(ChallengeTimeout > TimeSpan.Zero && ChallengeTimeout <= TimeSpan.FromHours(1), "--challenge-timeout must be more than 0 and at most 3600 seconds.");
        Check(Protocol.Messages.SignUpPolicies.IsKnown(SignUpPolicy), "--signup must be open, invite or closed.");
        Check(MinPasswordLength is >= 1 and <= Protocol.Accounts.AccountRules.MaxPasswordLength,
            $"--min-password-length must be between 1 and {Protocol.Accounts.AccountRules.MaxPasswordLength}.");
        Check(LockoutThreshold >= 1, "--lockout-threshold must be at least 1.");
        Check(LockoutBase >= TimeSpan.FromSeconds(1) && LockoutMax >= LockoutBase && LockoutMax <= TimeSpan.FromDays(365),
            "--lockout-base must be at least 1 second, and --lockout-max at least --lockout-base and at most 31536000 seconds (a year).");
        Check(HellosPerMinutePerAddress >= 1, "--hello-rate must be at least 1.");
        Check(SignUpsPerHourPerAddress >= 1, "--signup-rate must be at least 1.");
        Check(MaxTrackedAddresses >= 1, "--max-tracked-addresses must be at least 1.");
        Check(RefusalLogBurst >= 1 && RefusalLogPerSecond >= 1, "--refusal-log-burst and --refusal-log-rate must be at least 1.");
        Check(MaxDirectoryEntries >= 1, "--max-directory-entries must be at least 1.");
        Check(HistoryQueueCapacity >= 1, "--history-queue must be at least 1.");
        Check(HistoryBatchSize >= 1, "--history-batch must be at least 1.");
        Check(HistoryPageSize >= 1, "--history-page must be at least 1.");
        Check(MaxOfflineMessages >= 1, "--max-offline-messages must be at least 1.");
        Check(MaxTalkMessages >= 1, "--max-talk-messages must be at least 1.");
        Check(MaxRoomMembers >= 2, "--max-room-members must be at least 2.");
        Check(MaxRoomsPerClient >= 1 && MaxRooms >= 1, "--max-rooms-per-client and --max-rooms must be at least 1.");
        Check(MaxRoomsListed >= 1, "--max-rooms-listed must be at least 1.");
        Check(MaxKeysPerUser >= 1, "--max-keys-per-user must be at least 1.");
        Check(MetricsPort is null or (>= 0 and <= 65535), "--metrics-port must be off or between 0 and 65535.");
        Check(ShutdownTimeout >= TimeSpan.FromSeconds(1) && ShutdownTimeout <= TimeSpan.FromHours(1), "--shutdown-timeout must be between 1 and 3600 seconds.");
    }
}
