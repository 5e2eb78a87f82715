using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Parley.Client;
using Parley.Client.EndToEnd;
using Parley.Protocol.Accounts;
using Parley.Protocol.Messages;
using Parley.Protocol.Security.EndToEnd;
using Parley.Storage;
using Parley.Tests.Support;
using static Parley.Tests.Support.MessagingSteps;

namespace Parley.Tests.Integration;

/// <summary>
/// Issue #7 and seed 004 ("the server doesn't log messages"): a whole scenario against an in-process server logging
/// every category at Trace, Microsoft's included, and not one log line, exception or structured value holds a message
/// body, a password, a key, a cookie, a verifier, an invite code or a frame — while the expected events are all there.
/// </summary>
public sealed class LogPrivacyTests
{
    private const string Room = "#lobby";

    [Fact]
    public async Task A_full_scenario_logged_at_trace_shows_every_event_and_no_content_or_secret()
    {
        var run = Guid.NewGuid().ToString("N")[..10];
        var scenario = new Scenario(run);
        var server = await InProcessServer.StartAsync(o => o with { SignUpPolicy = SignUpPolicies.Invite }, minimumLevel: LogLevel.Trace);
        try
        {
            await scenario.RunAsync(server);
        }
        finally
        {
            // Stopping waits for every connection to end, so every disconnect is logged before the scan.
            await server.DisposeAsync();
        }

        var entries = server.Logs.Entries;
        var lines = entries.Select(e => $"{e.Level} {e.Category}: {e.Text}").Concat(server.Logs.Values).ToList();
        Assert.True(entries.Count > 50, $"only {entries.Count} log entries were captured");
        Assert.Contains(entries, e => e.Category.StartsWith("Microsoft.AspNetCore.Server.Kestrel", StringComparison.Ordinal) && e.Level <= LogLevel.Debug);
        foreach (var expected in scenario.ExpectedEvents)
        {
            Assert.True(entries.Any(e => e.Text.Contains(expected, StringComparison.Ordinal)),
                $"no log line contains \"{expected}\"; the log:\n{string.Join('\n', entries.Select(e => e.Text))}");
        }

        LogScan.AssertClean(lines, scenario.Markers, scenario.Secrets, scenario.Fingerprints, "the server's log");

        // One line per event: only an exception's stack trace may span lines (a console formatter folds it).
        Assert.All(entries.Where(e => !e.Text.Contains("   at ", StringComparison.Ordinal)), e => Assert.DoesNotContain('\n', e.Text));
    }

    [Fact]
    public void The_scan_finds_a_marker_a_password_a_secret_a_frame_and_a_long_base64_or_hex_run_but_not_a_fingerprint()
    {
        string[] markers = ["chat-a2b-5a7c", "pw-alice-5a7c"];
        var key = new byte[32];
        Random.Shared.NextBytes(key);
        var fingerprint = Convert.ToHexStringLower(key[..16]);
        string[] secrets = [.. LogScan.Forms(key)];
        string[] planted =
        [
            "alice said chat-a2b-5a7c",
            "sent " + Convert.ToBase64String([1, 2, .. Encoding.UTF8.GetBytes("chat-a2b-5a7c"), 3]),
            "password pw-alice-5a7c",
            "key " + Convert.ToHexString(key).ToLowerInvariant(),
            """frame {"msgtype":"PING"}""",
            "e2e1:" + Convert.ToBase64String(Encoding.UTF8.GetBytes("an envelope, or anything else this long")),
            "cookie " + Convert.ToHexString(key[..16]),
        ];

        foreach (var line in planted)
        {
            Assert.NotEmpty(LogScan.Leaks([line], markers, secrets, []));
        }

        Assert.Empty(LogScan.Leaks([$"alice published identity key {fingerprint}", "alice connected", "Connection id \"0HNF3J2K4L5M6\" started."],
            markers, secrets, [fingerprint]));
    }

    /// <summary>
    /// The scenario: users added by the operator and one signed up with an invite, a failed log-on, keys published,
    /// a chat session, live and offline DMs, a room, history, a password change, a direct-call lookup, and bad input
    /// (malformed records, a bad cookie, a junk datagram) that carries markers too. Every body and password is a marker.
    /// </summary>
    private sealed class Scenario(string run)
    {
        private readonly List<string> _secrets = [];
        private readonly List<string> _fingerprints = [];

        private string ChatPlain { get; } = $"chat-plain-{run}";
        private string ChatSealed { get; } = $"chat-sealed-{run}";
        private string ChatNoSession { get; } = $"chat-nosession-{run}";
        private string DmLive { get; } = $"dm-live-{run}";
        private string DmSealed { get; } = $"dm-sealed-{run}";
        private string DmOffline { get; } = $"dm-offline-{run}";
        private string Said { get; } = $"room-say-{run}";
        private string BadJson { get; } = $"bad-json-{run}";
        private string BadCookie { get; } = $"bad-cookie-{run}";
        private string BadDatagram { get; } = $"bad-datagram-{run}";
        private string AlicePassword { get; } = $"pw-alice-{run}";
        private string AliceNewPassword { get; } = $"pw-alice-new-{run}";
        private string WrongPassword { get; } = $"pw-wrong-{run}";
        private string BobPassword { get; } = $"pw-bob-{run}";
        private string CarolPassword { get; } = $"pw-carol-{run}";
        private string DavePassword { get; } = $"pw-dave-{run}";

        public string[] Markers =>
        [
            ChatPlain, ChatSealed, ChatNoSession, DmLive, DmSealed, DmOffline, Said, BadJson, BadCookie, BadDatagram,
            AlicePassword, AliceNewPassword, WrongPassword, BobPassword, CarolPassword, DavePassword,
        ];

        /// <summary>Exact values the log must not hold: cookies, link keys, envelopes, verifiers, backups, the invite, server secrets.</summary>
        public IReadOnlyCollection<string> Secrets => _secrets;

        /// <summary>Published identity key fingerprints: public, and logged on purpose (SECURITY.md §3.1).</summary>
        public IReadOnlyCollection<string> Fingerprints => _fingerprints;

        public string[] ExpectedEvents =>
        [
            "Log-on failed for a client ID from 127.0.0.1",
            "alice authenticated from 127.0.0.1",
            "alice connected",
            "carol signed up from 127.0.0.1",
            "alice published identity key ",
            "Chat session started between alice and bob",
            $"alice said something in {Room} to 1 members",
            "alice gave a wrong current password for a password change",
            "alice changed their password; key backup re-wrapped",
            "dave sent a bad frame: BAD_MESSAGE",
            "dave sent a bad frame: UNKNOWN_MSGTYPE",
            "Refused connection",
            "Rejected datagram from 127.0.0.1",
            "bob disconnected (logged off)",
            "alice disconnected (logged on elsewhere)",
        ];

        public async Task RunAsync(InProcessServer server)
        {
            server.AddUser("alice", AlicePassword);
            server.AddUser("bob", BobPassword);
            server.AddUser("dave", DavePassword);
            await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", WrongPassword));

            var invite = new InviteStore(server.Database).Create(1, DateTimeOffset.UtcNow.AddDays(1), DateTimeOffset.UtcNow);
            _secrets.AddRange([invite, invite.Replace("-", "", StringComparison.Ordinal)]);
            var info = await ParleySignUp.GetInfoAsync(server.ClientOptions, Token());
            Assert.Equal(SignUpCodes.Created, (await ParleySignUp.SignUpAsync(server.ClientOptions, info, "carol", CarolPassword, invite, Token())).Code);

            // Carol logs on once to publish her key, then leaves: the sealed DM below waits for her.
            await using (var carolFirst = await LogOnAsync(server, "carol", CarolPassword))
            using (var carolKeys = await StartE2eAsync(carolFirst, CarolPassword))
            {
                await carolFirst.LogOffAsync();
            }

            var alice = await LogOnAsync(server, "alice", AlicePassword);
            await using var bob = await LogOnAsync(server, "bob", BobPassword);
            using var aliceE2e = await StartE2eAsync(alice, AlicePassword);
            using var bobE2e = await StartE2eAsync(bob, BobPassword);
            var bobContact = await aliceE2e.ContactAsync("bob", cancellationToken: Token());

            // A seed 001 session: a plain and a sealed CHAT, and one to a session that does not exist.
            var session = await alice.StartChatWithAsync(bob, "bob");
            await alice.SendAsync(new Chat(session, ChatPlain));
            Assert.Equal(ChatPlain, (await bob.ExpectAsync<Chat>()).Message);
            var sealedChat = Keep(aliceE2e.Seal(bobContact, MessageKind.Chat, session, ChatSealed));
            await alice.SendAsync(new Chat(session, sealedChat));
            var chat = await bob.ExpectAsync<Chat>();
            Assert.Equal(ChatSealed, (await bobE2e.OpenAsync(chat.Message, MessageKind.Chat, "alice", "bob", session, Token())).Text);
            await ExpectErrorAsync(alice, new Chat("00000000", ChatNoSession), ErrorCodes.NotInSession);

            // DMs: live (plain and sealed), and sealed to carol, who is offline.
            await SendDmAsync(alice, "bob", DmLive, "d1");
            Assert.Equal(DmLive, (await bob.ExpectAsync<Dm>()).Message);
            await SendDmAsync(alice, "bob", Keep(aliceE2e.Seal(bobContact, MessageKind.Dm, "", DmSealed)), "d2");
            Assert.Equal(DmSealed, (await bobE2e.OpenAsync((await bob.ExpectAsync<Dm>()).Message, MessageKind.Dm, "alice", "bob", "", Token())).Text);
            var carolContact = await aliceE2e.ContactAsync("carol", cancellationToken: Token());
            Assert.False((await SendDmAsync(alice, "carol", Keep(aliceE2e.Seal(carolContact, MessageKind.Dm, "", DmOffline)), "d3")).Online);

            // A room line, which the server relays in the clear.
            await JoinAsync(alice, Room);
            await JoinAsync(bob, Room);
            await alice.ExpectAsync<RoomNotice>();
            await alice.SendAsync(new Say(Room, Said));
            Assert.Equal(Said, (await bob.ExpectAsync<Say>()).Message);

            // History of the session: both CHATs come back.
            await alice.SendAsync(new HistoryReq("bob"));
            Assert.Equal([ChatPlain, sealedChat], [(await alice.ExpectAsync<HistoryResp>()).Message, (await alice.ExpectAsync<HistoryResp>()).Message]);
            Assert.Equal(2, (await alice.ExpectAsync<HistoryEnd>()).Count);

            // A seed 000 lookup of bob, listening for direct calls.
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            await bob.ListenAsync(((IPEndPoint)listener.LocalEndpoint).Port, Token());
            Assert.Equal(LookupStatus.Success, (await bob.LookupAsync("bob", Token())).Status); // bob's LISTEN is in
            Assert.Equal(LookupStatus.Success, (await alice.LookupAsync("bob", Token())).Status);

            // /passwd: first with a wrong current password, then for real with the key re-wrapped.
            await alice.ChangePasswordAsync(WrongPassword, AliceNewPassword, cancellationToken: Token());
            Assert.Equal(ErrorCodes.WrongPassword, (await alice.ExpectAsync<Error>()).Code);
            await alice.ChangePasswordAsync(AlicePassword, AliceNewPassword, aliceE2e.WrapKey(AliceNewPassword), Token());
            await alice.ExpectAsync<PasswdOk>();

            // Alice again, with the new password (which logs the first connection off), and carol reads her DM.
            await using var aliceAgain = await LogOnAsync(server, "alice", AliceNewPassword);
            await alice.ExpectClosedAsync();
            await alice.DisposeAsync();
            await using (var carol = await LogOnAsync(server, "carol", CarolPassword))
            using (var carolE2e = await StartE2eAsync(carol, CarolPassword))
            {
                var (replayed, _) = await TalkAsync(carol, "alice");
                Assert.Equal(DmOffline, (await carolE2e.OpenAsync(Assert.Single(replayed).Message, MessageKind.Dm, "alice", "carol", "", Token())).Text);
                await carol.LogOffAsync();
            }

            await SendBadInputAsync(server);
            KeepStoredSecrets(server);
            await bob.LogOffAsync();
            await aliceAgain.LogOffAsync();
        }

        /// <summary>Malformed records, a bad cookie and a junk datagram, each with a marker the rejection must not log.</summary>
        private async Task SendBadInputAsync(InProcessServer server)
        {
            var ticket = await RawWire.AuthenticateAsync(server, "dave", DavePassword);
            KeepTicket(ticket);
            await using (var raw = await RawTcp.ConnectWithTicketAsync(server, ticket))
            {
                await raw.SendAsync(RawWire.SealedFrame(raw.Sealer!, RawWire.Json($$"""{"msgtype":"CHAT","session_id":"x","message":"{{BadJson}}""")));
                Assert.Equal(ErrorCodes.BadMessage, Assert.IsType<Error>(await raw.ReadAsync()).Code);
                await raw.SendAsync(RawWire.SealedFrame(raw.Sealer!, RawWire.Json($$"""{"msgtype":"SHOUT","text":"{{BadJson}}"}""")));
                Assert.Equal(ErrorCodes.UnknownMsgType, Assert.IsType<Error>(await raw.ReadAsync()).Code);
                await raw.SendAsync(RawWire.SealedFrame(raw.Sealer!, RawWire.Json($$"""{"msgtype":"DM","to":7,"message":"{{BadJson}}"}""")));
                Assert.Equal(ErrorCodes.BadMessage, Assert.IsType<Error>(await raw.ReadAsync()).Code);
            }

            await using (var raw = await RawTcp.ConnectAsync(server))
            {
                await raw.SendAsync(RawWire.PlainFrame(new Connect("bob", BadCookie)));
                Assert.Equal(ErrorCodes.CookieInvalid, Assert.IsType<Error>(Assert.Single(await raw.ExpectClosedAsync())).Code);
            }

            // Padded so that the ERROR is within the server's 3x anti-amplification bound and comes back.
            using var socket = RawWire.UdpSocket();
            var junk = Encoding.UTF8.GetBytes($$"""{"msgtype":"HELLO","client_id":"dave","nonce":"{{BadDatagram}}{{new string(' ', 200)}}""");
            Assert.IsType<Error>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, junk));
        }

        private async Task<ParleyConnection> LogOnAsync(InProcessServer server, string clientId, string password)
        {
            var ticket = await RawWire.AuthenticateAsync(server, clientId, password);
            KeepTicket(ticket);
            return await ParleyConnection.ConnectAsync(ticket, server.ClientOptions, Token());
        }

        private async Task<EndToEndSession> StartE2eAsync(ParleyConnection connection, string password)
        {
            var session = await EndToEndSession.StartAsync(connection, password, ContactBook.InMemory(), Token());
            _fingerprints.Add(session.PublicKey.Fingerprint);
            return session;
        }

        private void KeepTicket(LogOnTicket ticket)
        {
            _secrets.Add(ticket.Cookie);
            foreach (var bytes in new[] { ticket.ClientToServer.Key, ticket.ClientToServer.Iv, ticket.ServerToClient.Key, ticket.ServerToClient.Iv, ticket.Salt })
            {
                _secrets.AddRange(LogScan.Forms(bytes));
            }
        }

        private string Keep(string envelope)
        {
            _secrets.Add(envelope);
            return envelope;
        }

        private void KeepStoredSecrets(InProcessServer server)
        {
            var (secrets, fingerprints) = LogScan.StoredValues(server.Database);
            Assert.Equal(_fingerprints.Distinct().Order(), fingerprints.Order());
            _secrets.AddRange(secrets);
        }

        private static CancellationToken Token() => new CancellationTokenSource(InProcessServer.Timeout).Token;
    }
}
