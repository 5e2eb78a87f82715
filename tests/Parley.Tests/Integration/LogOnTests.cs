using System.Net;
using Parley.Client;
using Parley.Protocol.Messages;
using Parley.Tests.Support;

namespace Parley.Tests.Integration;

/// <summary>Seed 001's connection phase over UDP, done with SCRAM-SHA-256 (issue #2).</summary>
public sealed class LogOnTests
{
    [Fact]
    public async Task Log_on_yields_a_protected_connection_with_the_servers_limits()
    {
        await using var server = await InProcessServer.StartAsync(o => o with { ActivityTimeout = TimeSpan.FromMinutes(7), MaxMessageBytes = 2000 });
        server.AddUser("Alice", "pw");
        await using var alice = await server.LogOnAsync("alice", "pw");
        Assert.Equal("Alice", alice.ClientId);
        Assert.Equal(TimeSpan.FromMinutes(7), alice.ActivityTimeout);
        Assert.Equal(2000, alice.MaxMessageBytes);
    }

    [Fact]
    public async Task One_password_key_logs_on_again_and_again_and_a_wrong_one_still_fails()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "right");
        using var right = new PasswordKey("right");
        using var wrong = new PasswordKey("wrong");

        for (var i = 0; i < 3; i++)
        {
            await using var alice = await ParleyConnection.LogOnAsync(server.ClientOptions, "alice", right);
            Assert.Equal("alice", alice.ClientId);
        }

        var refused = await Assert.ThrowsAsync<ParleyClientException>(() => ParleyConnection.LogOnAsync(server.ClientOptions, "alice", wrong));
        Assert.Equal(ClientFailure.AuthenticationFailed, refused.Failure);
    }

    [Fact]
    public async Task A_wrong_password_and_an_unknown_ID_fail_with_the_same_words()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "right");
        var wrong = await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("alice", "wrong"));
        var unknown = await Assert.ThrowsAsync<ParleyClientException>(() => server.LogOnAsync("mallory", "whatever"));
        Assert.Equal(ClientFailure.AuthenticationFailed, wrong.Failure);
        Assert.Equal(ClientFailure.AuthenticationFailed, unknown.Failure);
        Assert.Equal(wrong.Message, unknown.Message);
        await Healthy.AssertServesAsync(server);
    }

    [Fact]
    public async Task An_unknown_ID_gets_a_challenge_like_a_real_one_with_a_stable_salt()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw");
        using var socket = RawWire.UdpSocket();
        var ghost1 = Assert.IsType<Challenge>(await Hello(socket, server, "ghost"));
        var ghost2 = Assert.IsType<Challenge>(await Hello(socket, server, "GHOST"));
        var real = Assert.IsType<Challenge>(await Hello(socket, server, "alice"));
        Assert.Equal(ghost1.Salt, ghost2.Salt);
        Assert.Equal(Convert.FromBase64String(real.Salt).Length, Convert.FromBase64String(ghost1.Salt).Length);
        Assert.Equal(real.Iterations, ghost1.Iterations);
    }

    [Fact]
    public async Task Every_challenge_carries_a_fresh_rand()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw");
        using var socket = RawWire.UdpSocket();
        using var scram = new ScramClient("alice", "pw");
        var hello = MessageCodec.ToBytes(scram.Hello);
        var first = Assert.IsType<Challenge>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, hello));
        var second = Assert.IsType<Challenge>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, hello));
        Assert.NotEqual(first.Rand, second.Rand);
        Assert.StartsWith(scram.Hello.Nonce, first.Rand, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_rand_is_evaluated_once_and_a_retransmitted_RESPONSE_gets_the_same_answer()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw");
        using var socket = RawWire.UdpSocket();
        using var scram = new ScramClient("alice", "pw");
        var challenge = Assert.IsType<Challenge>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(scram.Hello)));
        var response = MessageCodec.ToBytes(scram.Answer(challenge));

        var success = Assert.IsType<AuthSuccess>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, response));
        Assert.Equal(success, await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, response));

        // A different proof for the same rand is a replay attempt, not a second try.
        var other = new Response("alice", challenge.Rand, Convert.ToBase64String(new byte[32]));
        var error = Assert.IsType<Error>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(other)));
        Assert.Equal(ErrorCodes.ChallengeInvalid, error.Code);

        // The client accepts the server: its signature verifies and the sealed ticket opens with CK_A.
        var (ticket, _, _) = scram.Verify(success);
        Assert.Equal(server.Server.TcpEndPoint.Port, ticket.PortNumber);
    }

    [Fact]
    public async Task A_RESPONSE_retransmitted_while_the_first_is_still_being_checked_is_not_refused_as_a_replay()
    {
        // Issue #9's soak: on a loaded server a RESPONSE's check outlasted the client's first retransmission timeout
        // (500 ms, §3.9); the identical copy, taken by another receive loop, found the rand neither pending nor answered
        // and got CHALLENGE_INVALID, which ends the log-on. Here the check is held up by the database's write lock,
        // which it needs at its end (a successful log-on clears the ID's failures).
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw");
        using var socket = RawWire.UdpSocket();
        using var scram = new ScramClient("alice", "pw");
        var udp = server.Server.UdpEndPoint;
        var challenge = Assert.IsType<Challenge>(await RawWire.UdpExchangeAsync(socket, udp, MessageCodec.ToBytes(scram.Hello)));
        var response = MessageCodec.ToBytes(scram.Answer(challenge));

        using (var writer = server.Database.OpenConnection())
        using (writer.BeginTransaction())
        {
            await socket.SendToAsync(response, System.Net.Sockets.SocketFlags.None, udp);
            // Whichever loop took the first copy, the second finds it in progress: no answer yet, and no ERROR.
            Assert.Null(await RawWire.UdpExchangeAsync(socket, udp, response, TimeSpan.FromSeconds(1)));
        }

        // Once the check completes its AUTH_SUCCESS arrives, and a later copy gets the same answer from the cache.
        var success = Assert.IsType<AuthSuccess>(await RawWire.UdpExchangeAsync(socket, udp, response));
        Assert.Equal(success, await RawWire.UdpExchangeAsync(socket, udp, response));
        Assert.Equal(server.Server.TcpEndPoint.Port, scram.Verify(success).Ticket.PortNumber);
    }

    [Fact]
    public async Task A_wrong_password_cannot_be_retried_on_the_same_rand()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw");
        using var socket = RawWire.UdpSocket();
        using var wrong = new ScramClient("alice", "guess");
        var challenge = Assert.IsType<Challenge>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(wrong.Hello)));
        Assert.IsType<AuthFail>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(wrong.Answer(challenge))));

        // Reusing that rand with the right password's proof is refused: each rand gets one evaluation.
        using var right = new ScramClient("alice", "pw");
        var forged = right.Answer(challenge) with { };
        Assert.IsType<Error>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(forged)));
    }

    [Fact]
    public async Task An_unanswered_challenge_expires()
    {
        var time = new ManualTimeProvider();
        await using var server = await InProcessServer.StartAsync(o => o with { ChallengeTimeout = TimeSpan.FromSeconds(30) }, time);
        server.AddUser("alice", "pw");
        using var socket = RawWire.UdpSocket();
        using var scram = new ScramClient("alice", "pw");
        var challenge = Assert.IsType<Challenge>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(scram.Hello)));
        time.Advance(TimeSpan.FromSeconds(30));
        var error = Assert.IsType<Error>(await RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(scram.Answer(challenge))));
        Assert.Equal(ErrorCodes.ChallengeInvalid, error.Code);
    }

    [Fact]
    public async Task The_client_refuses_a_server_that_cannot_prove_it_holds_the_verifier()
    {
        // A fake server that knows nothing about alice: it challenges properly but cannot sign.
        var e = await LogOnToImpostorAsync(nonce => new Challenge(nonce + "xyzxyzxyzxyzxyz", Convert.ToBase64String(new byte[16]), 4096, NewKey()));
        Assert.Equal(ClientFailure.ServerNotAuthentic, e.Failure);
        Assert.Contains("could not prove", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_client_refuses_a_challenge_that_demands_unbounded_work()
    {
        var e = await LogOnToImpostorAsync(nonce => new Challenge(nonce + "xyzxyzxyzxyzxyz", Convert.ToBase64String(new byte[16]), int.MaxValue, NewKey()));
        Assert.Equal(ClientFailure.ServerNotAuthentic, e.Failure);
        Assert.Contains("PBKDF2 iterations", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_client_refuses_a_challenge_without_a_valid_salt()
    {
        var e = await LogOnToImpostorAsync(nonce => new Challenge(nonce + "xyzxyzxyzxyzxyz", "not base64!", 4096, NewKey()));
        Assert.Equal(ClientFailure.ServerNotAuthentic, e.Failure);
        Assert.Contains("salt", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Logs on to a fake UDP server that answers HELLO with <paramref name="challengeFor"/> and any RESPONSE with an unsigned AUTH_SUCCESS.</summary>
    private static async Task<ParleyClientException> LogOnToImpostorAsync(Func<string, Challenge> challengeFor)
    {
        using var fake = RawWire.UdpSocket();
        using var stop = new CancellationTokenSource(InProcessServer.Timeout);
        var impostor = Task.Run(async () =>
        {
            var buffer = new byte[2048];
            while (!stop.IsCancellationRequested)
            {
                var got = await fake.ReceiveFromAsync(buffer, new IPEndPoint(IPAddress.Any, 0), stop.Token);
                ParleyMessage reply = MessageCodec.Read(buffer.AsSpan(0, got.ReceivedBytes)) switch
                {
                    Hello h => challengeFor(h.Nonce),
                    _ => new AuthSuccess(Convert.ToBase64String(new byte[32]), Convert.ToBase64String(new byte[64])),
                };
                await fake.SendToAsync(MessageCodec.ToBytes(reply), got.RemoteEndPoint, stop.Token);
            }
        });

        var options = new ParleyClientOptions { Host = "127.0.0.1", Port = ((IPEndPoint)fake.LocalEndPoint!).Port };
        var e = await Assert.ThrowsAsync<ParleyClientException>(() => ParleyConnection.LogOnAsync(options, "alice", "pw", stop.Token));
        await stop.CancelAsync();
        await impostor.ContinueWith(_ => { }, TaskScheduler.Default);
        return e;
    }

    private static string NewKey()
    {
        using var key = new Protocol.Security.EcdhKey();
        return key.PublicKeyBase64;
    }

    [Fact]
    public async Task Lost_datagrams_are_retransmitted_until_the_log_on_succeeds()
    {
        await using var server = await InProcessServer.StartAsync();
        server.AddUser("alice", "pw");
        await using var lossy = new LossyUdpProxy(server.Server.UdpEndPoint, dropEvery: 2);
        var options = server.ClientOptions with { Port = lossy.Port, InitialRetransmitInterval = TimeSpan.FromMilliseconds(100) };
        await using var alice = await ParleyConnection.LogOnAsync(options, "alice", "pw");
        Assert.Equal("alice", alice.ClientId);
        Assert.True(lossy.Dropped >= 1);
    }

    [Fact]
    public async Task A_server_that_never_answers_is_reported_with_its_host_and_port()
    {
        using var silent = RawWire.UdpSocket(); // bound, so no ICMP error; it just never replies
        var port = ((IPEndPoint)silent.LocalEndPoint!).Port;
        var options = new ParleyClientOptions
        {
            Host = "127.0.0.1",
            Port = port,
            InitialRetransmitInterval = TimeSpan.FromMilliseconds(50),
            UdpTimeout = TimeSpan.FromMilliseconds(500),
        };
        var e = await Assert.ThrowsAsync<ParleyClientException>(() => ParleyConnection.LogOnAsync(options, "alice", "pw"));
        Assert.Equal(ClientFailure.ServerUnreachable, e.Failure);
        Assert.Contains($"not reachable at 127.0.0.1:{port}", e.Message, StringComparison.Ordinal);
    }

    private static Task<ParleyMessage?> Hello(System.Net.Sockets.Socket socket, InProcessServer server, string id)
    {
        using var scram = new ScramClient(id, "x");
        return RawWire.UdpExchangeAsync(socket, server.Server.UdpEndPoint, MessageCodec.ToBytes(scram.Hello));
    }

    [Fact]
    public async Task A_TCP_port_that_never_answers_CONNECT_is_reported_not_waited_on()
    {
        var silent = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        try
        {
            var port = ((IPEndPoint)silent.LocalEndpoint).Port;
            var keys = new Protocol.Security.DirectionKeys(new byte[32], new byte[12]);
            var ticket = new LogOnTicket(IPAddress.Loopback, port, "alice", "cookie", keys, keys, new byte[16], 4096);
            var options = new ParleyClientOptions { UdpTimeout = TimeSpan.FromMilliseconds(500) };
            var e = await Assert.ThrowsAsync<ParleyClientException>(() => ParleyConnection.ConnectAsync(ticket, options, CancellationToken.None));
            Assert.Equal(ClientFailure.ServerUnreachable, e.Failure);
            Assert.Contains($"127.0.0.1:{port} did not complete the connection", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            silent.Stop();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_TCP_link_reset_or_closed_before_CONNECTED_is_a_lost_connection_not_an_impostor(bool reset)
    {
        // A server crashing mid-log-on, or a network blip: parley chat must try again (PROTOCOL.md §8.2), and it stops
        // for good on ServerNotAuthentic, so that kind is kept for records that fail to verify.
        var e = await ConnectToFakeServerAsync((socket, _) =>
        {
            if (reset)
            {
                socket.LingerState = new System.Net.Sockets.LingerOption(true, 0); // the close sends RST
            }
            else
            {
                socket.Shutdown(System.Net.Sockets.SocketShutdown.Send); // a clean EOF
            }

            return Task.CompletedTask;
        });
        Assert.Equal(ClientFailure.ConnectionLost, e.Failure);
        Assert.Contains("ended before CONNECTED", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_first_record_that_does_not_verify_still_marks_the_server_as_not_authentic()
    {
        var e = await ConnectToFakeServerAsync(async (socket, token) =>
        {
            // Sealed under keys other than the ticket's: not the server that sealed our ticket.
            using var forger = new Protocol.Security.RecordCipher(new Protocol.Security.DirectionKeys(Enumerable.Repeat((byte)7, 32).ToArray(), new byte[12]));
            await socket.SendAsync(RawWire.SealedFrame(forger, new Pong()), token);
        });
        Assert.Equal(ClientFailure.ServerNotAuthentic, e.Failure);
    }

    /// <summary>
    /// The TCP step of a log-on (CONNECT → CONNECTED) against a fake server that reads the CONNECT, then does
    /// <paramref name="answer"/> and closes the socket; returns the client's failure.
    /// </summary>
    private static async Task<ParleyClientException> ConnectToFakeServerAsync(Func<System.Net.Sockets.Socket, CancellationToken, Task> answer)
    {
        var fake = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        fake.Start();
        using var stop = new CancellationTokenSource(InProcessServer.Timeout);
        try
        {
            var port = ((IPEndPoint)fake.LocalEndpoint).Port;
            var server = Task.Run(async () =>
            {
                using var socket = await fake.AcceptSocketAsync(stop.Token);
                var buffer = new byte[4096];
                Assert.True(await socket.ReceiveAsync(buffer, stop.Token) > 0); // the CONNECT
                await answer(socket, stop.Token);
                socket.Close();
            });
            var keys = new Protocol.Security.DirectionKeys(new byte[32], new byte[12]);
            var ticket = new LogOnTicket(IPAddress.Loopback, port, "alice", "cookie", keys, keys, new byte[16], 4096);
            var options = new ParleyClientOptions { UdpTimeout = InProcessServer.Timeout };
            var e = await Assert.ThrowsAsync<ParleyClientException>(() => ParleyConnection.ConnectAsync(ticket, options, stop.Token));
            await server;
            return e;
        }
        finally
        {
            fake.Stop();
        }
    }
}
