using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Security.Cryptography;
using FsCheck;
using FsCheck.Fluent;
using Parley.Client;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Tests.Fuzz.Support;
using Parley.Tests.Support;
using Xunit.Abstractions;

namespace Parley.Tests.Fuzz;

/// <summary>
/// Issue #9, live: mutated HELLO, RESPONSE (to a live challenge and to none), SIGNUP_HELLO, SIGNUP (with a real box),
/// LOOKUP_REQUEST and other messages, and random bytes, sent to the UDP log-on listener of a running server from
/// another loopback address. Every answer is one of the UDP replies of docs/PROTOCOL.md §5 with a UDP code of §6, at
/// most one per datagram (§2.1); the server logs no error, a genuine client still logs on, and a chatting pair is
/// still served.
/// </summary>
public sealed class UdpFuzzTests(ITestOutputHelper output)
{
    private const int Templates = 8;

    private static readonly HashSet<string> UdpCodes =
    [
        ErrorCodes.BadMessage, ErrorCodes.UnknownMsgType, ErrorCodes.NotAllowed, ErrorCodes.InvalidClientId, ErrorCodes.ChallengeInvalid,
        ErrorCodes.RateLimited, ErrorCodes.ServerBusy, ErrorCodes.SignUpClosed,
    ];

    [Fact]
    public async Task Hostile_datagrams_get_a_defined_answer_or_none_and_log_ons_go_on()
    {
        await using var fuzz = await FuzzServer.StartAsync();
        await using var pair = await ChatterPair.StartAsync(fuzz.Server);
        var victim = fuzz.NewUser("victim");
        var info = await ParleySignUp.GetInfoAsync(fuzz.Server.ClientOptions);
        using var socket = RawWire.UdpSocket("127.0.0.2");
        await using var replies = new Replies(socket);
        var cases = FuzzRun.Sample(
            from template in Gen.Choose(0, Templates - 1)
            from mutations in JsonMutator.Stacks.Select(s => s.Take(template == 1 ? 1 : 3).ToArray())
            from noise in Gen.Choose(0, 255).Select(b => (byte)b).ArrayOf()
            select (Template: template, Mutations: mutations, Noise: noise), FuzzRun.Cases(300));

        var failures = new List<string>();
        var sent = 0;
        for (var i = 0; i < cases.Count; i++)
        {
            var (template, mutations, noise) = cases[i];
            var datagram = template switch
            {
                0 => HelloOf(victim, fuzz.Key),
                1 => await LiveResponseAsync(fuzz, socket, replies, victim, () => sent++),
                2 => Encode(new Response(victim, "n0nce-n0nce-n0nce-n0nce" + Convert.ToBase64String(noise), Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)))),
                3 => Encode(new SignUpHello(new string('.', 160))),
                4 => Encode(SignUp(info, "fz-new-" + i)),
                5 => Encode(new LookupRequest(victim + new string(' ', 100))),
                6 => Encode(MessageCorpus.Messages[noise.Length % MessageCorpus.Messages.Length]),
                _ => [.. noise, .. noise, .. noise, .. noise, .. noise, .. noise], // up to ~1.5 KiB, past the datagram limit
            };
            await socket.SendToAsync(template == Templates - 1 ? datagram : JsonMutator.Apply(datagram, mutations), SocketFlags.None, fuzz.Server.Server.UdpEndPoint);
            sent++;
            await fuzz.CheckAsync(i, failures);
        }

        await fuzz.AssertGenuineLogOnAsync();
        failures.AddRange(replies.Failures);
        if (replies.Count > sent)
        {
            failures.Add($"{replies.Count} replies to {sent} datagrams: more than one answer to a datagram");
        }

        output.WriteLine($"{sent} datagrams sent, {replies.Count} answered: {string.Join(", ", replies.Kinds.OrderBy(k => k.Key).Select(k => $"{k.Key} {k.Value}"))}");
        await fuzz.FinishAsync(pair, output, "udp", cases.Count, failures);
    }

    /// <summary>
    /// Found by the live runs under load: a client retransmits its RESPONSE when the answer is slow, and the copy
    /// could reach a second receive loop while the first was still being evaluated; it was then taken for a replay,
    /// answered CHALLENGE_INVALID, and the client gave up its log-on (§3.9, §7.3: same rand and same proof is a
    /// retransmission). Two copies are sent back to back, so that the server's receive loops take them together.
    /// </summary>
    [Fact]
    public async Task A_RESPONSE_retransmitted_while_the_first_copy_is_evaluated_is_not_refused()
    {
        await using var fuzz = await FuzzServer.StartAsync();
        var user = fuzz.NewUser("twice");
        var udp = fuzz.Server.Server.UdpEndPoint;
        for (var attempt = 0; attempt < 50; attempt++)
        {
            // A socket per attempt: the other copy's answer (nothing, or the cached AUTH_SUCCESS) may come at any time.
            using var socket = RawWire.UdpSocket();
            using var scram = new ScramClient(user, fuzz.Key);
            var challenge = Assert.IsType<Challenge>(await RawWire.UdpExchangeAsync(socket, udp, Encode(scram.Hello)));
            var response = Encode(scram.Answer(challenge));
            await socket.SendToAsync(response, SocketFlags.None, udp);
            var reply = await RawWire.UdpExchangeAsync(socket, udp, response);
            Assert.True(reply is AuthSuccess, $"attempt {attempt}: a copy of a correct RESPONSE got {reply}");
        }
    }

    private static byte[] Encode(ParleyMessage message) => MessageCodec.ToBytes(message);

    private static byte[] HelloOf(string clientId, PasswordKey key)
    {
        using var scram = new ScramClient(clientId, key);
        return Encode(scram.Hello);
    }

    /// <summary>A genuine HELLO, its CHALLENGE, and the RESPONSE the real client computes, to be mutated before it is sent.</summary>
    private static async Task<byte[]> LiveResponseAsync(FuzzServer fuzz, Socket socket, Replies replies, string victim, Action counted)
    {
        using var scram = new ScramClient(victim, fuzz.Key);
        var challenge = replies.Expect(scram.Hello.Nonce);
        await socket.SendToAsync(Encode(scram.Hello), SocketFlags.None, fuzz.Server.Server.UdpEndPoint);
        counted();
        return Encode(scram.Answer(await challenge.WaitAsync(InProcessServer.Timeout)));
    }

    private static SignUp SignUp(SignUpInfo info, string clientId)
    {
        using var ephemeral = new EcdhKey();
        var box = SignUpBox.ForClient(ephemeral, info.ServerKey)!;
        return new SignUp(ephemeral.PublicKeyBase64, box.SealForm(new SignUpForm(clientId, CheckOnly: true)));
    }

    /// <summary>Reads every answer in the background: checks each, counts each kind, and hands CHALLENGEs to whoever waits for one.</summary>
    private sealed class Replies : IAsyncDisposable
    {
        private readonly Socket _socket;
        private readonly CancellationTokenSource _stop = new();
        private readonly ConcurrentDictionary<string, TaskCompletionSource<Challenge>> _waiting = new();
        private readonly ConcurrentQueue<string> _failures = new();
        private readonly ConcurrentDictionary<string, int> _kinds = new();
        private readonly Task _reading;
        private int _count;

        public Replies(Socket socket)
        {
            _socket = socket;
            _reading = ReadAsync();
        }

        public int Count => Volatile.Read(ref _count);

        public IReadOnlyList<string> Failures => [.. _failures];

        public IReadOnlyDictionary<string, int> Kinds => _kinds;

        /// <summary>The CHALLENGE whose rand extends <paramref name="nonce"/>.</summary>
        public Task<Challenge> Expect(string nonce) =>
            _waiting.GetOrAdd(nonce, _ => new TaskCompletionSource<Challenge>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _reading;
            _stop.Dispose();
        }

        private async Task ReadAsync()
        {
            var buffer = new byte[65536];
            while (!_stop.IsCancellationRequested)
            {
                int n;
                try
                {
                    n = await _socket.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                Interlocked.Increment(ref _count);
                Check(buffer.AsSpan(0, n));
            }
        }

        private void Check(ReadOnlySpan<byte> datagram)
        {
            ParleyMessage reply;
            try
            {
                reply = MessageCodec.Read(datagram);
            }
            catch (ProtocolException e)
            {
                _failures.Enqueue($"an answer that does not decode ({e.Code})");
                return;
            }

            var kind = reply is Error e2 ? "ERROR " + e2.Code : reply.GetType().Name;
            _kinds.AddOrUpdate(kind, 1, (_, n) => n + 1);
            switch (reply)
            {
                case Challenge challenge:
                    foreach (var (nonce, waiter) in _waiting)
                    {
                        if (challenge.Rand.StartsWith(nonce, StringComparison.Ordinal) && _waiting.TryRemove(nonce, out _))
                        {
                            waiter.TrySetResult(challenge);
                        }
                    }

                    break;
                case Error error when !UdpCodes.Contains(error.Code):
                    _failures.Enqueue($"ERROR {error.Code}, not a UDP code");
                    break;
                case AuthSuccess or AuthFail or Error or SignUpInfo or SignUpResult or LookupReply:
                    break;
                default:
                    _failures.Enqueue($"a {reply.GetType().Name} answered over UDP");
                    break;
            }
        }
    }
}
