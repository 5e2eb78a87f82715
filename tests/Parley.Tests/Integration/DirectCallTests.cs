using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using Parley.Client;
using Parley.Client.Direct;
using Parley.Client.EndToEnd;
using Parley.Protocol;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Protocol.Security.EndToEnd;
using Parley.Storage;
using Parley.Tests.Support;

namespace Parley.Tests.Integration;

/// <summary>
/// Issue #6 (seed 000) with the client library against a real server: LISTEN and LOOKUP, and direct links between
/// terminals bound to their own loopback addresses (ali on 127.0.0.2, bianca on 127.0.0.3), so the destination's
/// check of the caller's registered address is real. Impostors, a replayed handshake and a busy line are refused.
/// </summary>
public sealed class DirectCallTests
{
    [Fact]
    public async Task A_lookup_finds_a_listening_user_at_the_address_they_logged_on_from_with_their_port_and_current_key()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var bianca = await DirectTerminal.LogOnAsync(server, "bianca", "127.0.0.3");
        await using var ali = await DirectTerminal.LogOnAsync(server, "ali", "127.0.0.2");

        var found = await ali.Connection.LookupAsync("BIANCA", Timeout());

        Assert.Equal(LookupStatus.Success, found.Status);
        Assert.Equal("bianca", found.UserId);
        Assert.Equal("127.0.0.3", found.Address);
        Assert.Equal(bianca.Port, found.Port);
        Assert.Equal(bianca.E2e.PublicKey.Fingerprint, found.Fingerprint);
        Assert.Equal(bianca.E2e.PublicKey.AgreeKeyBase64, found.AgreeKey);
        Assert.Equal(bianca.E2e.PublicKey.SignKeyBase64, found.SignKey);

        // And the other way: ali is where she logged on from.
        var back = await bianca.Connection.LookupAsync("ali", Timeout());
        Assert.Equal((LookupStatus.Success, "ali", "127.0.0.2", ali.Port, ali.E2e.PublicKey.Fingerprint), (back.Status, back.UserId, back.Address, back.Port, back.Fingerprint));
    }

    [Fact]
    public async Task A_lookup_of_a_user_who_logged_off_never_listened_stopped_listening_or_does_not_exist_is_NOTFOUND_with_empty_fields()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var bianca = await DirectTerminal.LogOnAsync(server, "bianca", "127.0.0.3");
        await using var carol = await DirectTerminal.LogOnAsync(server, "carol", "127.0.0.4", listen: false);
        var notFound = new LookupReply(LookupStatus.NotFound);

        // Logged off: found while on, not after.
        await using (var ali = await DirectTerminal.LogOnAsync(server, "ali", "127.0.0.2"))
        {
            Assert.Equal(LookupStatus.Success, (await bianca.Connection.LookupAsync("ali", Timeout())).Status);
            await ali.Connection.LogOffAsync();
        }

        await WaitForLogAsync(server, "ali disconnected");
        Assert.Equal(notFound, await bianca.Connection.LookupAsync("ali", Timeout()));

        // Logged on (with a published key) but never sent LISTEN.
        Assert.Equal(notFound, await bianca.Connection.LookupAsync("carol", Timeout()));

        // Unknown, and not even a valid ID.
        Assert.Equal(notFound, await bianca.Connection.LookupAsync("nobody", Timeout()));
        Assert.Equal(notFound, await bianca.Connection.LookupAsync("bad id\u001b[2J", Timeout()));

        // LISTEN 0 withdraws: bianca no longer takes calls.
        Assert.Equal(LookupStatus.Success, (await carol.Connection.LookupAsync("bianca", Timeout())).Status);
        await bianca.Connection.ListenAsync(0, Timeout());
        Assert.Equal(notFound, await bianca.Connection.LookupAsync("bianca", Timeout())); // bianca's own link: in order after her LISTEN
        Assert.Equal(notFound, await carol.Connection.LookupAsync("bianca", Timeout()));
    }

    [Fact]
    public async Task A_lookup_over_UDP_from_someone_not_logged_on_is_NOTFOUND()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var bianca = await DirectTerminal.LogOnAsync(server, "bianca", "127.0.0.3");
        using var socket = RawWire.UdpSocket("127.0.0.2");

        var reply = await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(new LookupRequest("bianca")));

        Assert.Equal(new LookupReply(LookupStatus.NotFound), reply);

        // bianca is there all the same, for a caller who is logged on.
        await using var ali = await DirectTerminal.LogOnAsync(server, "ali", "127.0.0.2", listen: false);
        Assert.Equal(LookupStatus.Success, (await ali.Connection.LookupAsync("bianca", Timeout())).Status);
    }

    [Fact]
    public async Task Ali_calls_bianca_directly_they_talk_both_ways_and_when_one_hangs_up_the_other_sees_the_end()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var bianca = await DirectTerminal.LogOnAsync(server, "bianca", "127.0.0.3");
        await using var ali = await DirectTerminal.LogOnAsync(server, "ali", "127.0.0.2");

        var answering = bianca.AnswerAsync();
        await using var atAli = await ali.CallAsync("bianca");
        await using var atBianca = await answering;
        Assert.Equal(("bianca", "ali"), (atAli.PeerId, atBianca.PeerId));

        await atAli.SendAsync("Hello, how are you today?");
        Assert.Equal("Hello, how are you today?", await atBianca.ReceiveAsync(Timeout()));
        await atBianca.SendAsync("I am fine, how about you? — très bien 👋");
        Assert.Equal("I am fine, how about you? — très bien 👋", await atAli.ReceiveAsync(Timeout()));
        await atAli.SendAsync("I am well.");
        await atAli.SendAsync("Goodbye.");
        Assert.Equal("I am well.", await atBianca.ReceiveAsync(Timeout()));
        Assert.Equal("Goodbye.", await atBianca.ReceiveAsync(Timeout()));

        // Ali ends the call (Ctrl-C in the app disposes the link): bianca's receive loop ends.
        await atAli.DisposeAsync();
        Assert.Null(await atBianca.ReceiveAsync(Timeout()));

        // Each terminal goes on listening: bianca calls ali back.
        var answeringAgain = ali.AnswerAsync();
        await using var back = await bianca.CallAsync("ali");
        await using var backAtAli = await answeringAgain;
        await back.SendAsync("again");
        Assert.Equal("again", await backAtAli.ReceiveAsync(Timeout()));
    }

    [Fact]
    public async Task An_impostor_at_alis_address_but_without_her_key_is_refused_as_key_proof_failed()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var bianca = await DirectTerminal.LogOnAsync(server, "bianca", "127.0.0.3");
        await using var ali = await DirectTerminal.LogOnAsync(server, "ali", "127.0.0.2");

        // The impostor is a real client called "ali" (on a server of its own, so it has a key of its own), calling from
        // ali's registered address with the key bianca really has.
        await using var elsewhere = await InProcessServer.StartAsync();
        await using var impostor = await DirectTerminal.LogOnAsync(elsewhere, "ali", "127.0.0.2", listen: false);
        Assert.NotEqual(ali.E2e.PublicKey.Fingerprint, impostor.E2e.PublicKey.Fingerprint);

        var answering = bianca.AnswerAsync();
        var atImpostor = await Assert.ThrowsAsync<DirectCallException>(() =>
            DirectLink.CallAsync(bianca.EndPoint, impostor.E2e, "bianca", bianca.E2e.PublicKey, impostor.Options, Timeout()));
        var atBianca = await Assert.ThrowsAsync<DirectCallException>(() => answering);

        Assert.Equal("Connection refused by bianca: key proof failed.", atImpostor.Message);
        Assert.Equal("Refused a connection from ali (127.0.0.2): key proof failed.", atBianca.Message);

        // The real ali still gets through.
        answering = bianca.AnswerAsync();
        await using var genuine = await ali.CallAsync("bianca");
        await using var answered = await answering;
    }

    [Fact]
    public async Task Ali_with_her_own_key_but_from_an_address_other_than_the_one_she_logged_on_from_is_refused_as_address_mismatch()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var bianca = await DirectTerminal.LogOnAsync(server, "bianca", "127.0.0.3");
        await using var ali = await DirectTerminal.LogOnAsync(server, "ali", "127.0.0.2");

        var answering = bianca.AnswerAsync();
        var atCaller = await Assert.ThrowsAsync<DirectCallException>(() =>
            ali.CallAsync("bianca", ali.Options with { LocalAddress = IPAddress.Parse("127.0.0.4") }));
        var atBianca = await Assert.ThrowsAsync<DirectCallException>(() => answering);

        Assert.Equal("Connection refused by bianca: address mismatch.", atCaller.Message);
        Assert.Equal("Refused a connection from ali (127.0.0.4): address mismatch.", atBianca.Message);
    }

    [Fact]
    public async Task A_recorded_handshake_replayed_from_alis_address_is_refused()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var bianca = await DirectTerminal.LogOnAsync(server, "bianca", "127.0.0.3");
        await using var ali = await DirectTerminal.LogOnAsync(server, "ali", "127.0.0.2");

        // A genuine call, through a tap on ali's side that forwards from ali's address and records what ali sends.
        await using var tap = TcpTap.Start(source: IPAddress.Parse("127.0.0.2"));
        tap.ForwardTo(bianca.EndPoint);
        var answering = bianca.AnswerAsync();
        await using (var call = await DirectLink.CallAsync(tap.EndPoint, ali.E2e, "bianca", (await ali.E2e.ContactAsync("bianca")).Current!, ali.Options, Timeout()))
        await using (var answered = await answering)
        {
            await call.SendAsync("the genuine call");
            Assert.Equal("the genuine call", await answered.ReceiveAsync(Timeout()));
        }

        var frames = TcpTap.Frames(tap.Captures[0]); // the first connection's caller-to-destination direction
        Assert.IsType<ConnectRequest>(MessageCodec.Read(frames[0].AsSpan(Frame.HeaderBytes)));
        Assert.IsType<ConnectProof>(MessageCodec.Read(frames[1].AsSpan(Frame.HeaderBytes)));

        // The eavesdropper replays ali's CONNECT_REQUEST and CONNECT_PROOF, byte for byte, from ali's address.
        answering = bianca.AnswerAsync();
        using var replay = new TcpClient(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        await replay.ConnectAsync(bianca.EndPoint, Timeout());
        var stream = replay.GetStream();
        using var reader = new MessageChannel(new StreamDuplexPipe(stream));
        await stream.WriteAsync(frames[0], Timeout());
        Assert.IsType<ConnectChallenge>(await reader.ReadAsync(Timeout()));
        await stream.WriteAsync(frames[1], Timeout());
        var reply = Assert.IsType<ConnectReply>(await reader.ReadAsync(Timeout()));

        Assert.Equal((ConnectRefusals.Refused, ConnectRefusals.KeyProofFailed), (reply.Status, reply.Reason));
        Assert.Equal("Refused a connection from ali (127.0.0.2): key proof failed.", (await Assert.ThrowsAsync<DirectCallException>(() => answering)).Message);
    }

    [Fact]
    public async Task A_second_caller_while_bianca_is_in_a_call_is_told_she_is_busy_and_the_call_goes_on()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var bianca = await DirectTerminal.LogOnAsync(server, "bianca", "127.0.0.3");
        await using var ali = await DirectTerminal.LogOnAsync(server, "ali", "127.0.0.2");
        await using var carol = await DirectTerminal.LogOnAsync(server, "carol", "127.0.0.4");

        var answering = bianca.AnswerAsync();
        await using var atAli = await ali.CallAsync("bianca");
        await using var atBianca = await answering;

        // Bianca's terminal turns the next caller away, as the app does while in a call.
        var refusing = bianca.RefuseNextAsync(ConnectRefusals.Busy);
        var busy = await Assert.ThrowsAsync<DirectCallException>(() => carol.CallAsync("bianca"));
        await refusing;
        Assert.Equal("Connection refused by bianca: busy.", busy.Message);

        await atAli.SendAsync("still here?");
        Assert.Equal("still here?", await atBianca.ReceiveAsync(Timeout()));
    }

    [Fact]
    public async Task A_caller_whose_key_changed_since_bianca_trusted_it_is_refused_as_key_not_trusted()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var bianca = await DirectTerminal.LogOnAsync(server, "bianca", "127.0.0.3");
        await using (var before = await DirectTerminal.LogOnAsync(server, "ali", "127.0.0.2", listen: false))
        {
            Assert.Equal(KeyTrust.Trusted, (await bianca.E2e.ContactAsync("ali", cancellationToken: Timeout())).Trust); // trusted on first use
        }

        // The administrator resets ali's password, so her next log-on makes a new key; bianca has not accepted it.
        new UserStore(server.Database).SetVerifier("ali", Scram.CreateVerifier("pw-ali-2", InProcessServer.FastIterations));
        await using var ali = await DirectTerminal.LogOnAsync(server, "ali", "127.0.0.2", password: "pw-ali-2");
        Assert.NotNull(ali.E2e.Notice);

        var answering = bianca.AnswerAsync();
        var refused = await Assert.ThrowsAsync<DirectCallException>(() => ali.CallAsync("bianca"));
        Assert.Equal("Connection refused by bianca: key not trusted.", refused.Message);
        Assert.Equal("Refused a connection from ali (127.0.0.2): key not trusted.", (await Assert.ThrowsAsync<DirectCallException>(() => answering)).Message);
    }

    [Fact]
    public async Task A_caller_the_server_does_not_list_is_refused_as_an_address_mismatch_so_a_stranger_learns_nothing_of_who_is_online()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var bianca = await DirectTerminal.LogOnAsync(server, "bianca", "127.0.0.3");
        await using var carol = await DirectTerminal.LogOnAsync(server, "carol", "127.0.0.4", listen: false);

        var answering = bianca.AnswerAsync();
        var refused = await Assert.ThrowsAsync<DirectCallException>(() => carol.CallAsync("bianca"));
        await Assert.ThrowsAsync<DirectCallException>(() => answering);
        Assert.Equal("Connection refused by bianca: address mismatch.", refused.Message);
    }

    [Fact]
    public async Task Calling_a_port_nobody_listens_on_says_the_peer_could_not_be_reached()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var ali = await DirectTerminal.LogOnAsync(server, "ali", "127.0.0.2", listen: false);
        using var closed = new TcpListener(IPAddress.Parse("127.0.0.3"), 0);
        closed.Start();
        var nowhere = (IPEndPoint)closed.LocalEndpoint;
        closed.Stop();

        using var stranger = IdentityKey.Create();
        var failed = await Assert.ThrowsAsync<DirectCallException>(() =>
            DirectLink.CallAsync(nowhere, ali.E2e, "bianca", stranger.Public, ali.Options, Timeout()));
        Assert.StartsWith($"Could not reach bianca at {nowhere} (ConnectionRefused)", failed.Message, StringComparison.Ordinal);
        Assert.Contains("firewall or NAT", failed.Message, StringComparison.Ordinal);
    }

    internal static CancellationToken Timeout() => new CancellationTokenSource(InProcessServer.Timeout).Token;

    /// <summary>Waits (bounded) until the server has logged a line containing <paramref name="text"/>.</summary>
    private static async Task WaitForLogAsync(InProcessServer server, string text)
    {
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        while (!server.Logs.Entries.Any(e => e.Text.Contains(text, StringComparison.Ordinal)))
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}

/// <summary>
/// Proves the server is idle during a direct chat (seed 000) by its own counters. Each server has its own Parley.Server
/// meter (issue #7), and the listener hears only this test's server's, so servers of tests running beside it add
/// nothing; a DM through the server before and after shows the listener does hear that server's counters.
/// </summary>
public sealed class DirectCallServerCounterTests
{
    [Fact]
    public async Task The_server_counts_no_chat_message_or_byte_while_two_terminals_talk_directly()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var bianca = await DirectTerminal.LogOnAsync(server, "bianca", "127.0.0.3");
        await using var ali = await DirectTerminal.LogOnAsync(server, "ali", "127.0.0.2");
        using var counters = new ChatCounters(server.Server.Metrics.Meter);

        // Control: a DM relayed by the server moves both counters.
        await RelayDmAsync(ali, "bianca", "through the server");
        Assert.Equal((1L, 18L), counters.Read());

        var answering = bianca.AnswerAsync();
        await using (var atAli = await ali.CallAsync("bianca"))
        await using (var atBianca = await answering)
        {
            for (var i = 0; i < 20; i++)
            {
                await atAli.SendAsync($"direct line {i} from ali");
                Assert.Equal($"direct line {i} from ali", await atBianca.ReceiveAsync(DirectCallTests.Timeout()));
                await atBianca.SendAsync($"direct line {i} from bianca");
                Assert.Equal($"direct line {i} from bianca", await atAli.ReceiveAsync(DirectCallTests.Timeout()));
            }
        }

        Assert.Equal((1L, 18L), counters.Read());
        Assert.DoesNotContain(server.Logs.Entries, e => e.Text.Contains("direct line", StringComparison.Ordinal));

        // Control again: the listener still hears this server.
        await RelayDmAsync(bianca, "ali", "back through");
        Assert.Equal((2L, 30L), counters.Read());
    }

    /// <summary>A DM through the server; DM_SENT means the server has handled (and counted) it.</summary>
    private static async Task RelayDmAsync(DirectTerminal from, string to, string text)
    {
        await from.Connection.SendAsync(new Dm(to, text, Id: Guid.NewGuid().ToString("N")), DirectCallTests.Timeout());
        using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
        while (await from.Connection.Events.ReadAsync(timeout.Token) is not DmSent)
        {
        }
    }

    /// <summary>Sums parley.chat.messages.received and parley.chat.bytes.received from one server's meter.</summary>
    private sealed class ChatCounters : IDisposable
    {
        private readonly MeterListener _listener = new();
        private long _messages;
        private long _bytes;

        public ChatCounters(Meter meter)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && instrument.Name is "parley.chat.messages.received" or "parley.chat.bytes.received")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                if (instrument.Name == "parley.chat.messages.received")
                {
                    Interlocked.Add(ref _messages, value);
                }
                else
                {
                    Interlocked.Add(ref _bytes, value);
                }
            });
            _listener.Start();
        }

        public (long Messages, long Bytes) Read() => (Interlocked.Read(ref _messages), Interlocked.Read(ref _bytes));

        public void Dispose() => _listener.Dispose();
    }
}
