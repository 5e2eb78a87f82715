using System.CommandLine;
using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Parley.Cli.Commands;
using Parley.Protocol.Messages;
using Parley.Server;
using Parley.Server.Hosting;

namespace Parley.Cli.Server;

/// <summary><c>parley server</c>: runs until Ctrl+C or SIGTERM, then disconnects clients and commits queued history. Logs go to stderr and never contain message text.</summary>
internal static class ServerCommand
{
    public static Command Create()
    {
        var defaults = new ParleyServerOptions { DataDirectory = "" };
        var dataDir = CommonOptions.DataDir();
        var iterations = CommonOptions.ScramIterations();
        var address = new Option<string>("--address") { Description = "Address to bind UDP and TCP (loopback by default)", DefaultValueFactory = _ => defaults.Address.ToString() };
        var port = new Option<int>("--port") { Description = "UDP port for log-on (0 = any free port)", DefaultValueFactory = _ => defaults.UdpPort };
        var tcpPort = new Option<int?>("--tcp-port") { Description = "TCP port for the chat link [default: same number as --port; any free port if --port is 0]" };
        var activity = new Option<double>("--activity-timeout") { Description = "Seconds without activity before a client is logged off", DefaultValueFactory = _ => defaults.ActivityTimeout.TotalSeconds };
        var keepAlive = new Option<double>("--keepalive") { Description = "Seconds between client PINGs; 3 missed intervals close the link", DefaultValueFactory = _ => defaults.KeepAliveInterval.TotalSeconds };
        var cookie = new Option<double>("--cookie-lifetime") { Description = "Seconds a rand_cookie stays valid", DefaultValueFactory = _ => defaults.CookieLifetime.TotalSeconds };
        var challenge = new Option<double>("--challenge-timeout") { Description = "Seconds a CHALLENGE may go unanswered", DefaultValueFactory = _ => defaults.ChallengeTimeout.TotalSeconds };
        var maxMessage = new Option<int>("--max-message-bytes") { Description = "Largest chat message in UTF-8 bytes", DefaultValueFactory = _ => defaults.MaxMessageBytes };
        var maxFrame = new Option<int>("--max-frame-bytes") { Description = "Largest TCP frame body", DefaultValueFactory = _ => defaults.MaxFrameBytes };
        var maxConnections = new Option<int>("--max-connections") { Description = "Open TCP connections at once", DefaultValueFactory = _ => defaults.MaxConnections };
        var outbound = new Option<int>("--outbound-queue") { Description = "Messages queued per client before a slow client is disconnected", DefaultValueFactory = _ => defaults.OutboundQueueCapacity };
        var handshakes = new Option<int>("--max-pending-handshakes") { Description = "Unanswered challenges held server-wide", DefaultValueFactory = _ => defaults.MaxPendingHandshakes };
        var perAddress = new Option<int>("--max-handshakes-per-address") { Description = "Unanswered challenges held per source address", DefaultValueFactory = _ => defaults.MaxPendingHandshakesPerAddress };
        var maxDatagram = new Option<int>("--max-datagram-bytes") { Description = "Largest UDP datagram accepted; larger ones are dropped", DefaultValueFactory = _ => defaults.MaxDatagramBytes };
        var slowConsumer = new Option<double>("--slow-consumer-timeout") { Description = "Seconds a sender waits for room in its peer's queue before the peer is disconnected as too slow", DefaultValueFactory = _ => defaults.SlowConsumerTimeout.TotalSeconds };
        var connectTimeout = new Option<double>("--connect-timeout") { Description = "Seconds a new TCP connection has to send CONNECT", DefaultValueFactory = _ => defaults.ConnectTimeout.TotalSeconds };
        var historyQueue = new Option<int>("--history-queue") { Description = "Chat messages waiting to be committed before senders wait", DefaultValueFactory = _ => defaults.HistoryQueueCapacity };
        var historyBatch = new Option<int>("--history-batch") { Description = "Most messages committed in one transaction", DefaultValueFactory = _ => defaults.HistoryBatchSize };
        var signUp = new Option<string>("--signup") { Description = "Who may create accounts from the client: open, invite (codes from `parley user invite`) or closed (`parley user add` only)", DefaultValueFactory = _ => defaults.SignUpPolicy };
        signUp.AcceptOnlyFromAmong(SignUpPolicies.Open, SignUpPolicies.Invite, SignUpPolicies.Closed);
        var minPassword = CommonOptions.MinPasswordLength();
        var lockoutThreshold = new Option<int>("--lockout-threshold") { Description = "Failed log-ons in a row that lock a client ID", DefaultValueFactory = _ => defaults.LockoutThreshold };
        var lockoutBase = new Option<double>("--lockout-base") { Description = "Seconds of the first lock; each further failure doubles it", DefaultValueFactory = _ => defaults.LockoutBase.TotalSeconds };
        var lockoutMax = new Option<double>("--lockout-max") { Description = "Longest lock in seconds", DefaultValueFactory = _ => defaults.LockoutMax.TotalSeconds };
        var helloRate = new Option<int>("--hello-rate") { Description = "HELLOs one address may send per minute", DefaultValueFactory = _ => defaults.HellosPerMinutePerAddress };
        var signUpRate = new Option<int>("--signup-rate") { Description = "Sign-up requests one address may send per hour", DefaultValueFactory = _ => defaults.SignUpsPerHourPerAddress };
        var trackedAddresses = new Option<int>("--max-tracked-addresses") { Description = "Source addresses the rate limits track at once", DefaultValueFactory = _ => defaults.MaxTrackedAddresses };
        var directory = new Option<int>("--max-directory-entries") { Description = "Most users one /list answer carries", DefaultValueFactory = _ => defaults.MaxDirectoryEntries };
        var offline = new Option<int>("--max-offline-messages") { Description = "Direct messages kept waiting for one recipient's client; past it the sender gets QUEUE_FULL", DefaultValueFactory = _ => defaults.MaxOfflineMessages };
        var talk = new Option<int>("--max-talk-messages") { Description = "Most past direct messages one /talk replays", DefaultValueFactory = _ => defaults.MaxTalkMessages };
        var roomMembers = new Option<int>("--max-room-members") { Description = "Members of one room", DefaultValueFactory = _ => defaults.MaxRoomMembers };
        var roomsPerClient = new Option<int>("--max-rooms-per-client") { Description = "Rooms one client may be in at once", DefaultValueFactory = _ => defaults.MaxRoomsPerClient };
        var rooms = new Option<int>("--max-rooms") { Description = "Rooms that may exist at once", DefaultValueFactory = _ => defaults.MaxRooms };
        var roomsListed = new Option<int>("--max-rooms-listed") { Description = "Most rooms one /rooms answer lists (the largest)", DefaultValueFactory = _ => defaults.MaxRoomsListed };
        var keysPerUser = new Option<int>("--max-keys-per-user") { Description = "Identity keys one user may publish (all are kept to verify old messages)", DefaultValueFactory = _ => defaults.MaxKeysPerUser };
        var advertise = new Option<int>("--advertise-tcp-port") { Description = "TCP port told to clients when a port forward or proxy sits in front (0 = the bound port)", DefaultValueFactory = _ => defaults.AdvertisedTcpPort };
        var historyPage = new Option<int>("--history-page") { Description = "Messages read per page when answering HISTORY_REQ", DefaultValueFactory = _ => defaults.HistoryPageSize };

        var command = new Command("server", "Run the Parley server (UDP log-on, TCP chat relay, SQLite history)")
        {
            dataDir, address, port, tcpPort, iterations, activity, keepAlive, cookie, challenge, maxMessage, maxFrame,
            maxConnections, outbound, handshakes, perAddress, maxDatagram, slowConsumer, connectTimeout, historyQueue, historyBatch, historyPage,
            signUp, minPassword, lockoutThreshold, lockoutBase, lockoutMax, helloRate, signUpRate, trackedAddresses, directory,
            offline, talk, roomMembers, roomsPerClient, rooms, roomsListed, keysPerUser, advertise,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            if (!IPAddress.TryParse(result.GetValue(address), out var ip))
            {
                await Console.Error.WriteLineAsync($"--address: '{result.GetValue(address)}' is not an IP address.").ConfigureAwait(false);
                return 2;
            }

            var udp = result.GetValue(port);
            var options = new ParleyServerOptions
            {
                DataDirectory = result.GetValue(dataDir)!,
                Address = ip,
                UdpPort = udp,
                TcpPort = result.GetValue(tcpPort) ?? udp,
                ScramIterations = result.GetValue(iterations),
                ActivityTimeout = TimeSpan.FromSeconds(result.GetValue(activity)),
                KeepAliveInterval = TimeSpan.FromSeconds(result.GetValue(keepAlive)),
                CookieLifetime = TimeSpan.FromSeconds(result.GetValue(cookie)),
                ChallengeTimeout = TimeSpan.FromSeconds(result.GetValue(challenge)),
                MaxMessageBytes = result.GetValue(maxMessage),
                MaxFrameBytes = result.GetValue(maxFrame),
                MaxConnections = result.GetValue(maxConnections),
                OutboundQueueCapacity = result.GetValue(outbound),
                MaxPendingHandshakes = result.GetValue(handshakes),
                MaxPendingHandshakesPerAddress = result.GetValue(perAddress),
                MaxDatagramBytes = result.GetValue(maxDatagram),
                SlowConsumerTimeout = TimeSpan.FromSeconds(result.GetValue(slowConsumer)),
                ConnectTimeout = TimeSpan.FromSeconds(result.GetValue(connectTimeout)),
                HistoryQueueCapacity = result.GetValue(historyQueue),
                HistoryBatchSize = result.GetValue(historyBatch),
                HistoryPageSize = result.GetValue(historyPage),
                SignUpPolicy = result.GetValue(signUp)!,
                MinPasswordLength = result.GetValue(minPassword),
                LockoutThreshold = result.GetValue(lockoutThreshold),
                LockoutBase = TimeSpan.FromSeconds(result.GetValue(lockoutBase)),
                LockoutMax = TimeSpan.FromSeconds(result.GetValue(lockoutMax)),
                HellosPerMinutePerAddress = result.GetValue(helloRate),
                SignUpsPerHourPerAddress = result.GetValue(signUpRate),
                MaxTrackedAddresses = result.GetValue(trackedAddresses),
                MaxDirectoryEntries = result.GetValue(directory),
                MaxOfflineMessages = result.GetValue(offline),
                MaxTalkMessages = result.GetValue(talk),
                MaxRoomMembers = result.GetValue(roomMembers),
                MaxRoomsPerClient = result.GetValue(roomsPerClient),
                MaxRooms = result.GetValue(rooms),
                MaxRoomsListed = result.GetValue(roomsListed),
                MaxKeysPerUser = result.GetValue(keysPerUser),
                AdvertisedTcpPort = result.GetValue(advertise),
            };
            return await ServerRunner.RunAsync(options, new ServerHostSettings(), cancellationToken).ConfigureAwait(false);
        });
        return command;
    }
}
