using System.Net.Sockets;
using System.Text;
using System.Threading.Channels;
using Parley.Protocol;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Tests.Support;

namespace Parley.Tests.Fuzz.Support;

/// <summary>A frame that must end the connection, built from the connection's sealer, and the ERROR code it must get.</summary>
internal sealed record FatalFrame(string Name, Func<RecordCipher, byte[]> Build, string Code);

/// <summary>The session ID a recorded session used, replaced in later messages by the one the replay is given.</summary>
internal sealed class SessionRewrite(string recorded)
{
    public string? Current { get; set; }

    public byte[] Apply(byte[] body) => Current is null
        ? body
        : Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(body).Replace(recorded, Current, StringComparison.Ordinal));
}

/// <summary>
/// One logged-on connection fed hostile plaintexts inside valid seals (and, optionally, one damaged frame last), as
/// docs/PROTOCOL.md §4.4 and §7.4 describe its fate: each plaintext the decoder refuses gets its ERROR, each msgtype a
/// client may not send gets NOT_ALLOWED, and the link goes on, proved by a sentinel HISTORY_REQ answered after them
/// all; a damaged frame gets its fatal ERROR and a close. A close after ERROR RATE_LIMITED is a defined end too
/// (a per-connection rate limit). Returns what went wrong, or null.
/// </summary>
internal static class SealedCase
{
    private const string Sentinel = "fz-sentinel";

    private static readonly HashSet<Type> ClientTypes =
    [
        typeof(LogOff), typeof(Chat), typeof(HistoryReq), typeof(Dm), typeof(DmAck), typeof(Read), typeof(Talk), typeof(Ping),
        typeof(ChatRequest), typeof(EndRequest), typeof(ListReq), typeof(Passwd), typeof(Join), typeof(Part), typeof(Say),
        typeof(RoomsReq), typeof(KeysPut), typeof(KeysGet), typeof(Listen), typeof(LookupRequest),
    ];

    public static async Task<string?> RunAsync(FuzzServer server, string clientId, IEnumerable<byte[]> bodies, FatalFrame? fatal = null, SessionRewrite? rewrite = null)
    {
        var ticket = await server.AuthenticateAsync(clientId);
        await using var raw = await RawTcp.ConnectWithTicketAsync(server.Server, ticket);
        var replies = new Replies(raw);
        var expected = new Dictionary<string, int>();
        var loggedOff = false;
        var open = true;
        foreach (var original in bodies)
        {
            var body = rewrite?.Apply(original) ?? original;
            var (message, code) = MessageCorpus.Decode(body);
            code ??= message is null || ClientTypes.Contains(message.GetType()) ? null : ErrorCodes.NotAllowed;
            if (code is not null)
            {
                expected[code] = expected.GetValueOrDefault(code) + 1;
            }

            if (!(open = await TrySendAsync(raw, RawWire.SealedFrame(raw.Sealer!, body))) || (loggedOff = message is LogOff))
            {
                break;
            }

            if (rewrite is not null && message is ChatRequest)
            {
                // The replay's own session ID, for the CHATs and END_REQUEST that follow.
                rewrite.Current = await replies.UntilAsync(m => m is ChatStarted or Unreachable or Error) is ChatStarted started ? started.SessionId : rewrite.Current;
            }
        }

        string? failure = null;
        if (open && !loggedOff && fatal is not null)
        {
            await TrySendAsync(raw, fatal.Build(raw.Sealer!));
            await replies.UntilAsync(_ => false);
            failure = replies.Last is Error { Code: var c } && c == fatal.Code ? null : $"{fatal.Name} ended with {Describe(replies.Last)}, not ERROR {fatal.Code} and a close";
        }
        else if (open && !loggedOff)
        {
            await TrySendAsync(raw, RawWire.SealedFrame(raw.Sealer!, new HistoryReq(Sentinel)));
            if (await replies.UntilAsync(m => m is HistoryEnd { ClientId: Sentinel }) is null)
            {
                failure = replies.Last is Error { Code: ErrorCodes.RateLimited } ? null : $"the link closed after {Describe(replies.Last)} although nothing fatal was sent";
            }

            await TrySendAsync(raw, RawWire.SealedFrame(raw.Sealer!, new LogOff()));
        }

        await replies.UntilAsync(_ => false);
        failure ??= replies.Failure;
        failure ??= replies.All.OfType<Error>().FirstOrDefault(e => !MessageCorpus.DocumentedCodes.Contains(e.Code)) is { } odd ? $"undocumented code {odd.Code}" : null;
        if (failure is null && replies.Last is not Error { Code: ErrorCodes.RateLimited })
        {
            failure = expected.Where(e => replies.All.OfType<Error>().Count(r => r.Code == e.Key) < e.Value)
                .Select(e => $"{e.Value} message(s) should each have had ERROR {e.Key}; got {replies.All.OfType<Error>().Count(r => r.Code == e.Key)}")
                .FirstOrDefault();
        }

        return failure;
    }

    private static string Describe(ParleyMessage? message) => message switch
    {
        null => "nothing",
        Error e => $"ERROR {e.Code}",
        _ => message.GetType().Name,
    };

    private static async Task<bool> TrySendAsync(RawTcp raw, byte[] frame)
    {
        try
        {
            await raw.SendAsync(frame);
            return true;
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            return false; // the server already closed the link; what it said last tells why
        }
    }

    /// <summary>Everything the server sends on the link, read in the background until it closes.</summary>
    private sealed class Replies
    {
        private readonly Channel<ParleyMessage> _channel = Channel.CreateUnbounded<ParleyMessage>();
        private readonly List<ParleyMessage> _all = [];

        public Replies(RawTcp raw) => _ = ReadAsync(raw);

        public IReadOnlyList<ParleyMessage> All => _all;

        public ParleyMessage? Last => _all.Count == 0 ? null : _all[^1];

        public string? Failure { get; private set; }

        /// <summary>Reads until a message matches (returned) or the link closes (null).</summary>
        public async Task<ParleyMessage?> UntilAsync(Func<ParleyMessage, bool> match)
        {
            using var timeout = new CancellationTokenSource(InProcessServer.Timeout);
            try
            {
                while (await _channel.Reader.WaitToReadAsync(timeout.Token))
                {
                    while (_channel.Reader.TryRead(out var message))
                    {
                        _all.Add(message);
                        if (match(message))
                        {
                            return message;
                        }
                    }
                }
            }
            catch (OperationCanceledException)
            {
                Failure ??= $"the server neither answered nor closed within {InProcessServer.Timeout.TotalSeconds} s";
            }

            return null;
        }

        private async Task ReadAsync(RawTcp raw)
        {
            try
            {
                while (await raw.ReadAsync() is { } message)
                {
                    _channel.Writer.TryWrite(message);
                }
            }
            catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
            {
                // Reset by the server after its last words: a close.
            }
            catch (ProtocolException e)
            {
                Failure = $"the server sent a frame the client cannot read ({e.Code})";
            }
            catch (OperationCanceledException)
            {
                Failure = "the server went silent without closing";
            }
            finally
            {
                _channel.Writer.TryComplete();
            }
        }
    }
}
