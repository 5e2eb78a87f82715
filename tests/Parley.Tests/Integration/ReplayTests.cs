using System.Net;
using System.Text;
using Parley.Client;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Tests.Support;
using static Parley.Tests.Support.MessagingSteps;

namespace Parley.Tests.Integration;

/// <summary>
/// Issue #9, replay: what an attacker on the path captured of a genuine log-on or link and sends again gains nothing.
/// A RESPONSE is evaluated once per rand (PROTOCOL §3.7), an AUTH_SUCCESS is bound to one log-on's nonces and
/// ephemeral keys (§3.4, §3.8), a cookie is single-use (§3.10, <see cref="CookieTests"/>), and a record opens only at
/// its own place in its own connection (§4.6; self-sealed variants are in <see cref="TcpBadInputTests"/>).
/// </summary>
public sealed class ReplayTests
{
    private const string Evaluated = "alice authenticated from";

    [Fact]
    public async Task A_captured_RESPONSE_replayed_after_the_log_on_is_not_evaluated_again_and_once_its_window_has_passed_is_refused()
    {
        var time = new ManualTimeProvider();
        await using var server = await InProcessServer.StartAsync(o => o with { ChallengeTimeout = TimeSpan.FromSeconds(30) }, time);
        server.AddUser("alice", "pw");
        var udp = server.Server.UdpEndPoint;
        using var genuine = RawWire.UdpSocket();
        using var scram = new ScramClient("alice", "pw");
        var challenge = Assert.IsType<Challenge>(await RawWire.UdpExchangeAsync(genuine, udp, MessageCodec.ToBytes(scram.Hello)));
        var response = MessageCodec.ToBytes(scram.Answer(challenge)); // what the eavesdropper captures
        var success = Assert.IsType<AuthSuccess>(await RawWire.UdpExchangeAsync(genuine, udp, response));
        var ticket = Ticket(scram, success, challenge);
        await using var alice = await RawTcp.ConnectWithTicketAsync(server, ticket);

        // Replayed from another address within the retransmission window, it gets the answer alice got, byte for
        // byte: no second evaluation, so no second cookie, and the one inside is sealed to alice's keys and spent.
        using var attacker = RawWire.UdpSocket("127.0.0.2");
        Assert.Equal(success, await RawWire.UdpExchangeAsync(attacker, udp, response));
        Assert.Single(server.Logs.Entries, e => e.Text.Contains(Evaluated, StringComparison.Ordinal));
        await using (var spent = await RawTcp.ConnectAsync(server))
        {
            await spent.SendAsync(RawWire.PlainFrame(new Connect("alice", ticket.Cookie)));
            Assert.Equal(ErrorCodes.CookieInvalid, Assert.IsType<Error>(Assert.Single(await spent.ExpectClosedAsync())).Code);
        }

        // Once challenge-timeout has passed since the evaluation, the same bytes are a stale challenge, from anyone.
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(ErrorCodes.ChallengeInvalid, Assert.IsType<Error>(await RawWire.UdpExchangeAsync(attacker, udp, response)).Code);
        Assert.Equal(ErrorCodes.ChallengeInvalid, Assert.IsType<Error>(await RawWire.UdpExchangeAsync(genuine, udp, response)).Code);
        Assert.Single(server.Logs.Entries, e => e.Text.Contains(Evaluated, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_captured_RESPONSE_that_overtakes_alices_own_from_another_address_wins_nothing_and_does_not_stop_her()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw");
        var udp = server.Server.UdpEndPoint;
        using var genuine = RawWire.UdpSocket();
        using var scram = new ScramClient("alice", "pw");
        var challenge = Assert.IsType<Challenge>(await RawWire.UdpExchangeAsync(genuine, udp, MessageCodec.ToBytes(scram.Hello)));
        var response = MessageCodec.ToBytes(scram.Answer(challenge));

        // The attacker's copy reaches the server first, while the challenge is pending. A RESPONSE is not bound to an
        // address, so it is evaluated (once) and answered; the answer is all the attacker gets, a ticket sealed under
        // CK_A, which needs alice's ephemeral private key (§3.6).
        using var attacker = RawWire.UdpSocket("127.0.0.2");
        var atAttacker = Assert.IsType<AuthSuccess>(await RawWire.UdpExchangeAsync(attacker, udp, response));

        // alice's own RESPONSE then gets the same answer, nothing new, and she logs on with it as usual.
        var atAlice = Assert.IsType<AuthSuccess>(await RawWire.UdpExchangeAsync(genuine, udp, response));
        Assert.Equal(atAttacker, atAlice);
        await using var alice = await RawTcp.ConnectWithTicketAsync(server, Ticket(scram, atAlice, challenge));
        Assert.Single(server.Logs.Entries, e => e.Text.Contains(Evaluated, StringComparison.Ordinal));
        await alice.SendAsync(RawWire.SealedFrame(alice.Sealer!, new ChatRequest("nobody")));
        Assert.IsType<Unreachable>(await alice.ReadAsync());
    }

    [Fact]
    public async Task A_captured_AUTH_SUCCESS_replayed_into_a_later_log_on_is_refused_by_the_client_and_nothing_connects()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw");
        await using var proxy = new ReplayingUdpProxy(server.Server.UdpEndPoint);
        var options = server.ClientOptions with { Port = proxy.Port };
        await using var first = await ParleyConnection.LogOnAsync(options, "alice", "pw");

        // The attacker answers alice's next log-on with the AUTH_SUCCESS captured from this one. Its signature and
        // ticket belong to another nonce and other ephemeral keys (§3.4), so the client refuses it and connects nowhere.
        proxy.ReplaceAuthSuccessWith(Assert.Single(proxy.Successes));
        var refused = await Assert.ThrowsAsync<ParleyClientException>(() => ParleyConnection.LogOnAsync(options, "alice", "pw"));
        Assert.Equal(ClientFailure.ServerNotAuthentic, refused.Failure);
        Assert.Equal(2, proxy.Successes.Count); // the server did answer; the client got the old answer instead

        // A CONNECT would have closed the first connection (LOGGED_ON_ELSEWHERE): it is still open, and answers.
        await first.ExpectNothingPendingAsync();
    }

    [Fact]
    public async Task A_DM_record_captured_from_alices_link_and_sent_again_into_it_or_her_next_connection_is_refused_and_stores_no_second_DM()
    {
        await using var tap = TcpTap.Start();
        await using var server = await InProcessServer.StartAsync(o => o with { AdvertisedTcpPort = tap.Port });
        tap.ForwardTo(server.Server.TcpEndPoint.Port);
        await using var bob = await server.AddAndLogOnAsync("bob");
        server.AddUser("alice", "pw");

        // alice's client reaches the server through the tap; the test holds her ticket, so it can tell her records apart.
        var ticket = await RawWire.AuthenticateAsync(server, "alice", "pw");
        var connection = tap.Connections;
        await using var alice = await ParleyConnection.ConnectAsync(ticket, server.ClientOptions, CancellationToken.None);
        await SendDmAsync(alice, "bob", "pay carol ten pounds", "1");
        Assert.Equal("pay carol ten pounds", (await bob.ExpectAsync<Dm>()).Message);
        var captured = TcpTap.Frames(tap.Captures[2 * connection]);
        var dm = DmRecord(captured, ticket);

        // Into her own live link, after it: the server expects the next sequence number, so the record fails
        // (§4.6 "replay") and the link closes.
        await tap.InjectAsync(connection, dm);
        Assert.Equal(ErrorCodes.RecordInvalid, Assert.IsType<Error>(Assert.Single(await alice.ExpectClosedAsync())).Code);

        // Into her next connection: its keys are new (§4.6 "splice"), so the record fails there too.
        await using (var again = await RawTcp.ConnectWithTicketAsync(server, await RawWire.AuthenticateAsync(server, "alice", "pw")))
        {
            await again.SendAsync(dm);
            Assert.Equal(ErrorCodes.RecordInvalid, Assert.IsType<Error>(Assert.Single(await again.ExpectClosedAsync())).Code);
        }

        // Her captured CONNECT, on a connection of its own: its cookie was spent by her log-on.
        await using (var replayed = await RawTcp.ConnectAsync(server))
        {
            await replayed.SendAsync(captured[0]);
            Assert.Equal(ErrorCodes.CookieInvalid, Assert.IsType<Error>(Assert.Single(await replayed.ExpectClosedAsync())).Code);
        }

        // None of it was acted on: one DM stored, and bob was sent nothing more.
        Assert.Equal(1, StoredRows(server, "dm"));
        await bob.ExpectNothingPendingAsync();
    }

    // Reordering needs records still in flight, which a tap that forwards at once does not hold back; these are the
    // very bytes alice's client would send (her keys, her sequence numbers). Two frames arrive together and the
    // server stops at the first, so its closing ERROR may be lost to a reset (see TcpBadInputTests): only the close
    // is certain.
    [Fact]
    public async Task Two_DM_records_reordered_in_flight_close_the_link_and_neither_DM_is_stored_or_delivered()
    {
        await using var server = await InProcessServer.StartAsync();
        await using var bob = await server.AddAndLogOnAsync("bob");
        server.AddUser("alice", "pw");
        await using (var alice = await RawTcp.ConnectWithTicketAsync(server, await RawWire.AuthenticateAsync(server, "alice", "pw")))
        {
            var first = RawWire.SealedFrame(alice.Sealer!, new Dm("bob", "first", "1"));
            var second = RawWire.SealedFrame(alice.Sealer!, new Dm("bob", "second", "2"));
            await alice.SendAsync([.. second, .. first]);
            Assert.All(await alice.ExpectClosedAsync(), m => Assert.Equal(ErrorCodes.RecordInvalid, Assert.IsType<Error>(m).Code));
        }

        Assert.Equal(0, StoredRows(server, "dm"));
        await bob.ExpectNothingPendingAsync();
    }

    /// <summary>The ticket alice's client would have made of <paramref name="success"/>.</summary>
    private static LogOnTicket Ticket(ScramClient scram, AuthSuccess success, Challenge challenge)
    {
        var (ticket, c2s, s2c) = scram.Verify(success);
        return new LogOnTicket(IPAddress.Loopback, ticket.PortNumber, "alice", ticket.RandCookie, c2s, s2c,
            Convert.FromBase64String(challenge.Salt), challenge.Iterations);
    }

    /// <summary>The one DM record among a connection's captured client frames (CONNECT, then sealed records), found by opening them in order.</summary>
    private static byte[] DmRecord(List<byte[]> frames, LogOnTicket ticket)
    {
        using var opener = new RecordCipher(ticket.ClientToServer);
        var dms = new List<byte[]>();
        foreach (var frame in frames.Skip(1))
        {
            var text = SealedRecords.Open(opener, (frame[..Frame.HeaderBytes], frame[Frame.HeaderBytes..]));
            Assert.NotNull(text);
            if (MessageCodec.Read(Encoding.UTF8.GetBytes(text)) is Dm)
            {
                dms.Add(frame);
            }
        }

        return Assert.Single(dms);
    }
}
