using System.Globalization;
using Microsoft.Extensions.Logging;
using Parley.Cli.Server;
using Parley.Protocol.Accounts;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Server;
using static Parley.Cli.Configuration.ValueParsers;

namespace Parley.Cli.Configuration;

/// <summary>
/// Every setting of <c>parley server</c>, in the order <c>--help</c> lists them. Defaults are read from
/// <see cref="ParleyServerOptions"/> and <see cref="ServerHostSettings"/> so the help cannot drift from them; a test
/// checks that every property of both has a row here.
/// </summary>
internal static class ServerSettings
{
    private static readonly ParleyServerOptions D = new() { DataDirectory = "" };
    private static readonly ServerHostSettings H = new();

    public static readonly Setting DataDir = Setting.Create("data-dir", "Directory of the SQLite database parley.db, which `parley server` and `parley user` share", FilePath,
        "$XDG_DATA_HOME/parley or ~/.local/share/parley", (c, v) => c with { Server = c.Server with { DataDirectory = v } });

    public static readonly Setting Port = Number("port", "UDP port for log-on (0 = any free port)", D.UdpPort, (o, v) => o with { UdpPort = v });

    public static readonly Setting TcpPort = Setting.Create("tcp-port", "TCP port for the chat link (0 = any free port)", WholeNumber,
        "same as --port", (c, v) => c with { Server = c.Server with { TcpPort = v } });

    public static readonly Setting AdminSocket = Setting.Create("admin-socket", "Unix socket for `parley admin` (mode 0600); none for no socket",
        FilePathOrNone, "<data-dir>/admin.sock", (c, v) => c with { Server = c.Server with { AdminSocketPath = v } });

    public static readonly Setting ScramIterations = Number("scram-iterations",
        $"PBKDF2 iterations for new passwords; unknown IDs are challenged with the count most users have ({Scram.MinimumIterations} to {Scram.MaximumIterations})",
        D.ScramIterations, (o, v) => o with { ScramIterations = v });

    public static readonly Setting MinPasswordLength = Number("min-password-length",
        $"Shortest password accepted for a new account or password (1 to {AccountRules.MaxPasswordLength})", D.MinPasswordLength, (o, v) => o with { MinPasswordLength = v });

    /// <summary>All of them; the order is the help's.</summary>
    public static readonly IReadOnlyList<Setting> All =
    [
        DataDir,
        Setting.Create("address", "Address to bind UDP and TCP (loopback by default: exposing the server is a choice)", IpAddress,
            D.Address.ToString(), (c, v) => c with { Server = c.Server with { Address = v } }),
        Port,
        TcpPort,
        Number("advertise-tcp-port", "TCP port told to clients when a port forward or proxy sits in front (0 = the bound port)",
            D.AdvertisedTcpPort, (o, v) => o with { AdvertisedTcpPort = v }),
        AdminSocket,
        Setting.Create("metrics-port", "Loopback TCP port serving /metrics and /healthz (0 = any free port)", OffOrPort,
            D.MetricsPort?.ToString(CultureInfo.InvariantCulture) ?? "off", (c, v) => c with { Server = c.Server with { MetricsPort = v } }),
        Setting.Create("signup", "Who may create accounts from the client: open, invite (codes from `parley user invite`) or closed (`parley user add` only)",
            Choice((SignUpPolicies.Open, SignUpPolicies.Open), (SignUpPolicies.Invite, SignUpPolicies.Invite), (SignUpPolicies.Closed, SignUpPolicies.Closed)),
            D.SignUpPolicy, (c, v) => c with { Server = c.Server with { SignUpPolicy = v } }),
        ScramIterations,
        MinPasswordLength,
        Number("lockout-threshold", "Failed log-ons in a row that lock a client ID (at least 1)", D.LockoutThreshold, (o, v) => o with { LockoutThreshold = v }),
        Time("lockout-base", "Seconds of the first lock; each further failure doubles it (at least 1)", D.LockoutBase, (o, v) => o with { LockoutBase = v }),
        Time("lockout-max", "Longest lock in seconds (at least --lockout-base)", D.LockoutMax, (o, v) => o with { LockoutMax = v }),
        Number("hello-rate", "HELLOs one address (IPv6: one /64) may send per minute", D.HellosPerMinutePerAddress, (o, v) => o with { HellosPerMinutePerAddress = v }),
        Number("signup-rate", "Sign-up requests one address may send per hour", D.SignUpsPerHourPerAddress, (o, v) => o with { SignUpsPerHourPerAddress = v }),
        Number("refusal-log-burst", "Log lines about refused datagrams (floods) written at once; later ones are left out and counted",
            D.RefusalLogBurst, (o, v) => o with { RefusalLogBurst = v }),
        Number("refusal-log-rate", "Such log lines allowed per second after the burst", D.RefusalLogPerSecond, (o, v) => o with { RefusalLogPerSecond = v }),
        Number("max-tracked-addresses", "Source addresses the rate limits track at once", D.MaxTrackedAddresses, (o, v) => o with { MaxTrackedAddresses = v }),
        Time("activity-timeout", "Seconds without activity before a client is logged off (at least 1)", D.ActivityTimeout, (o, v) => o with { ActivityTimeout = v }),
        Time("keepalive", "Seconds between client PINGs; 3 missed intervals close the link (at least 1)", D.KeepAliveInterval, (o, v) => o with { KeepAliveInterval = v }),
        Time("cookie-lifetime", "Seconds a log-on cookie stays valid", D.CookieLifetime, (o, v) => o with { CookieLifetime = v }),
        Time("challenge-timeout", "Seconds a CHALLENGE may go unanswered", D.ChallengeTimeout, (o, v) => o with { ChallengeTimeout = v }),
        Time("connect-timeout", "Seconds a new TCP connection has to send CONNECT", D.ConnectTimeout, (o, v) => o with { ConnectTimeout = v }),
        Time("slow-consumer-timeout", "Seconds a sender waits for room in its peer's queue before the peer is disconnected as too slow (under 3 × --keepalive)",
            D.SlowConsumerTimeout, (o, v) => o with { SlowConsumerTimeout = v }),
        Time("shutdown-timeout", "Seconds a graceful shutdown may take before open connections are cut (1 to 3600)", D.ShutdownTimeout, (o, v) => o with { ShutdownTimeout = v }),
        Number("max-message-bytes", "Largest chat, direct or room message in UTF-8 bytes (× 6 + 1024 must fit in --max-frame-bytes)",
            D.MaxMessageBytes, (o, v) => o with { MaxMessageBytes = v }),
        Number("max-frame-bytes", $"Largest TCP frame body (2048 to {Frame.MaximumBodyBytes})", D.MaxFrameBytes, (o, v) => o with { MaxFrameBytes = v }),
        Number("max-datagram-bytes", "Largest UDP datagram accepted; larger ones are dropped (at least 768)", D.MaxDatagramBytes, (o, v) => o with { MaxDatagramBytes = v }),
        Number("max-connections", "Open TCP connections at once", D.MaxConnections, (o, v) => o with { MaxConnections = v }),
        Number("max-unauthenticated", "TCP connections at once that have not yet sent CONNECT; past it new ones get SERVER_BUSY",
            D.MaxUnauthenticatedConnections, (o, v) => o with { MaxUnauthenticatedConnections = v }),
        Number("max-unauthenticated-per-address", "Of those, how many one source address (IPv6: one /64) may have",
            D.MaxUnauthenticatedPerAddress, (o, v) => o with { MaxUnauthenticatedPerAddress = v }),
        Number("message-rate", "Messages one connection may send per second, sustained; a flood gets RATE_LIMITED and is disconnected",
            D.MessagesPerSecond, (o, v) => o with { MessagesPerSecond = v }),
        Number("message-burst", "Messages one connection may send at once before --message-rate applies", D.MessageBurst, (o, v) => o with { MessageBurst = v }),
        Number("max-pending-bytes", "Bytes waiting to be sent to one client before it is disconnected as too slow (at least 2 × --max-frame-bytes)",
            D.MaxPendingOutboundBytes, (o, v) => o with { MaxPendingOutboundBytes = v }),
        Number("outbound-queue", "Messages queued per client before a slow client is disconnected (at least 16)", D.OutboundQueueCapacity, (o, v) => o with { OutboundQueueCapacity = v }),
        Number("max-pending-handshakes", "Unanswered challenges held server-wide", D.MaxPendingHandshakes, (o, v) => o with { MaxPendingHandshakes = v }),
        Number("max-handshakes-per-address", "Unanswered challenges held per source address", D.MaxPendingHandshakesPerAddress, (o, v) => o with { MaxPendingHandshakesPerAddress = v }),
        Number("history-queue", "Chat messages waiting to be committed before senders wait", D.HistoryQueueCapacity, (o, v) => o with { HistoryQueueCapacity = v }),
        Number("history-batch", "Most messages committed in one transaction", D.HistoryBatchSize, (o, v) => o with { HistoryBatchSize = v }),
        Number("history-page", "Messages read per page when answering HISTORY_REQ", D.HistoryPageSize, (o, v) => o with { HistoryPageSize = v }),
        Number("max-directory-entries", "Most users one /list answer carries", D.MaxDirectoryEntries, (o, v) => o with { MaxDirectoryEntries = v }),
        Number("max-offline-messages", "Direct messages kept waiting for one recipient's client; past it the sender gets QUEUE_FULL",
            D.MaxOfflineMessages, (o, v) => o with { MaxOfflineMessages = v }),
        Number("max-talk-messages", "Most past direct messages one /talk replays", D.MaxTalkMessages, (o, v) => o with { MaxTalkMessages = v }),
        Number("max-room-members", "Members of one room (at least 2)", D.MaxRoomMembers, (o, v) => o with { MaxRoomMembers = v }),
        Number("max-rooms-per-client", "Rooms one client may be in at once", D.MaxRoomsPerClient, (o, v) => o with { MaxRoomsPerClient = v }),
        Number("max-rooms", "Rooms that may exist at once", D.MaxRooms, (o, v) => o with { MaxRooms = v }),
        Number("max-rooms-listed", "Most rooms one /rooms answer lists (the largest)", D.MaxRoomsListed, (o, v) => o with { MaxRoomsListed = v }),
        Number("max-keys-per-user", "Identity keys one user may publish (all are kept to verify old messages)", D.MaxKeysPerUser, (o, v) => o with { MaxKeysPerUser = v }),
        Setting.Create("log-level", "Least severe log events written to stderr: trace, debug, information, warning, error, critical or none",
            Choice("level", ("trace", LogLevel.Trace), ("debug", LogLevel.Debug), ("information", LogLevel.Information), ("warning", LogLevel.Warning),
                ("error", LogLevel.Error), ("critical", LogLevel.Critical), ("none", LogLevel.None)),
            H.LogLevel.ToString().ToLowerInvariant(), (c, v) => c with { Host = c.Host with { LogLevel = v } }),
        Setting.Create("log-format", "Log lines as text for people or as one JSON object each for collectors",
            Choice((LogFormats.Text, LogFormats.Text), (LogFormats.Json, LogFormats.Json)), H.LogFormat, (c, v) => c with { Host = c.Host with { LogFormat = v } }),
        Setting.Create("console", "Whether standard input takes operator commands; off for a service", OnOff,
            H.Console ? "on" : "off", (c, v) => c with { Host = c.Host with { Console = v } }),
    ];

    /// <summary>The names parley.json may use: every setting's, whichever command reads the file.</summary>
    public static readonly IReadOnlyCollection<string> Names = All.Select(s => s.Name).ToHashSet(StringComparer.Ordinal);

    /// <summary>Layers <paramref name="settings"/> over the defaults (<see cref="LayeredSettings"/>); throws <see cref="InvalidSettingException"/>.</summary>
    public static ServerConfiguration Resolve(IEnumerable<Setting> settings, SettingInputs inputs)
    {
        var chosen = LayeredSettings.Choose(settings, Names, inputs);
        var configuration = ServerConfiguration.Defaults(inputs.Environment);
        foreach (var value in chosen)
        {
            configuration = value.Setting.Apply(configuration, value.Text, value.Source);
        }

        // Defaults that follow other settings, whichever layer those came from.
        if (!chosen.Any(c => c.Setting == TcpPort))
        {
            configuration = configuration with { Server = configuration.Server with { TcpPort = configuration.Server.UdpPort } };
        }

        if (!chosen.Any(c => c.Setting == AdminSocket))
        {
            configuration = configuration with { Server = configuration.Server with { AdminSocketPath = Path.Combine(configuration.Server.DataDirectory, "admin.sock") } };
        }

        CheckRanges(configuration.Server, chosen);
        return configuration;
    }

    /// <summary>
    /// <see cref="ParleyServerOptions.Validate"/>'s range checks, before anything starts, with the layer the value came
    /// from put after the flag its sentence begins with: "--port (from PARLEY_PORT) must be between 0 and 65535."
    /// </summary>
    private static void CheckRanges(ParleyServerOptions options, IReadOnlyList<ChosenValue> chosen)
    {
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            var culprit = chosen.FirstOrDefault(c => e.Message.StartsWith(c.Setting.Flag + " ", StringComparison.Ordinal));
            throw new InvalidSettingException(culprit is null
                ? e.Message
                : $"{culprit.Setting.Flag} ({culprit.Source}){e.Message[culprit.Setting.Flag.Length..]}");
        }
    }

    private static Setting Number(string name, string description, int defaultValue, Func<ParleyServerOptions, int, ParleyServerOptions> apply) =>
        Setting.Create(name, description, WholeNumber, defaultValue.ToString(CultureInfo.InvariantCulture), (c, v) => c with { Server = apply(c.Server, v) });

    private static Setting Time(string name, string description, TimeSpan defaultValue, Func<ParleyServerOptions, TimeSpan, ParleyServerOptions> apply) =>
        Setting.Create(name, description, Seconds, defaultValue.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture), (c, v) => c with { Server = apply(c.Server, v) });
}
