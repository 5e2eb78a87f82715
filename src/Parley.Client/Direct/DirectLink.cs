using System.Net;
using System.Net.Sockets;
using Parley.Client.EndToEnd;
using Parley.Protocol;
using Parley.Protocol.Framing;
using Parley.Protocol.Messages;
using Parley.Protocol.Security.EndToEnd;

namespace Parley.Client.Direct;

/// <summary>A direct call that did not come about: the reason, in words a user can act on.</summary>
public sealed class DirectCallException(string message) : Exception(message);

/// <summary>What the destination found out about an initiator: its identity key, or why it is refused.</summary>
public sealed record InitiatorCheck(IdentityPublicKey? Key, string? Refusal);

/// <summary>
/// A direct, end-to-end protected TCP link between two terminals (issue #6; seed 000; docs/PROTOCOL.md §13): the
/// server only told each side where the other is. Frames are the server link's (§2.2); after the handshake
/// (<see cref="DirectHandshake"/>) every frame is a sealed record under keys only the two ends have.
/// </summary>
public sealed class DirectLink : IAsyncDisposable
{
    /// <summary>Largest frame on a direct link: a chat line, not a file transfer. A bigger one ends the call.</summary>
    public const int MaxFrameBytes = 64 * 1024;

    /// <summary>Longest line (UTF-8 bytes) <see cref="TrySend"/> takes: with JSON escaping it always fits a frame.</summary>
    public const int MaxTextBytes = 8 * 1024;

    /// <summary>Lines queued for a peer that is not reading before <see cref="TrySend"/> says no.</summary>
    private const int OutgoingCapacity = 256;

    private readonly TcpClient _tcp;
    private readonly MessageChannel _channel;
    private readonly System.Threading.Channels.Channel<string> _outgoing =
        System.Threading.Channels.Channel.CreateBounded<string>(new System.Threading.Channels.BoundedChannelOptions(OutgoingCapacity) { SingleReader = true });
    private readonly Task _sending;

    private DirectLink(TcpClient tcp, MessageChannel channel, string peerId)
    {
        _tcp = tcp;
        _channel = channel;
        PeerId = peerId;
        _sending = SendLoopAsync();
    }

    /// <summary>The other terminal's user, as the handshake proved it.</summary>
    public string PeerId { get; }

    /// <summary>
    /// Initiator: connects to <paramref name="target"/> (from LOOKUP_REPLY), proves <paramref name="me"/>'s identity
    /// and checks that the other end holds <paramref name="peerKey"/>, the key the user trusts for <paramref name="peerId"/>.
    /// </summary>
    public static async Task<DirectLink> CallAsync(IPEndPoint target, EndToEndSession me, string peerId, IdentityPublicKey peerKey,
        ParleyClientOptions options, CancellationToken cancellationToken)
    {
        var tcp = options.LocalAddress is { } local ? new TcpClient(new IPEndPoint(local, 0)) : new TcpClient(target.AddressFamily);
        tcp.NoDelay = true;
        var channel = (MessageChannel?)null;
        using var handshake = DirectHandshake.ForInitiator(me.ClientId, peerId);
        try
        {
            using (var connect = Deadline(options, cancellationToken))
            {
                try
                {
                    await tcp.ConnectAsync(target, connect.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is SocketException or NotSupportedException or OperationCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    throw new DirectCallException($"Could not reach {peerId} at {target} ({(e is SocketException s ? s.SocketErrorCode.ToString() : "no answer")}): " +
                        "they may be behind a firewall or NAT that blocks incoming connections.");
                }
            }

            channel = new MessageChannel(new StreamDuplexPipe(tcp.GetStream()), MaxFrameBytes);
            await channel.SendAsync(handshake.Request, cancellationToken).ConfigureAwait(false);
            switch (await ReadAsync(channel, options, cancellationToken).ConfigureAwait(false))
            {
                case ConnectChallenge challenge when handshake.AcceptChallenge(challenge, peerKey):
                    break;
                case ConnectChallenge:
                    await RefuseAsync(channel, ConnectRefusals.KeyProofFailed, cancellationToken).ConfigureAwait(false);
                    throw new DirectCallException($"Connection refused: the terminal at {target} could not prove it is {peerId} (key proof failed).");
                case ConnectReply { Status: ConnectRefusals.Refused } refused:
                    throw new DirectCallException($"Connection refused by {peerId}: {Display(refused.Reason)}.");
                default:
                    throw new DirectCallException($"Connection refused: {peerId}'s terminal broke the handshake.");
            }

            await channel.SendAsync(handshake.Prove(me.Key), cancellationToken).ConfigureAwait(false);
            var reply = await ReadAsync(channel, options, cancellationToken).ConfigureAwait(false) as ConnectReply;
            if (reply is not { Status: ConnectRefusals.Accepted })
            {
                throw new DirectCallException($"Connection refused by {peerId}: {Display(reply?.Reason)}.");
            }

            var (send, receive) = handshake.DeriveKeys();
            channel.Protect(send, receive);
            return new DirectLink(tcp, channel, peerId);
        }
        catch
        {
            channel?.Dispose();
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Destination: runs the handshake on an accepted connection. <paramref name="check"/> looks the initiator up
    /// (seed 000: "Bianca sends a Lookup Request to the server to verify Ali's IP address and Ali's encryption key")
    /// and returns the key to hold it to, or a refusal. Every refusal is told to the initiator, then thrown.
    /// </summary>
    public static async Task<DirectLink> AnswerAsync(TcpClient tcp, EndToEndSession me,
        Func<string, IPAddress, CancellationToken, Task<InitiatorCheck>> check, ParleyClientOptions options, CancellationToken cancellationToken)
    {
        tcp.NoDelay = true;
        var channel = new MessageChannel(new StreamDuplexPipe(tcp.GetStream()), MaxFrameBytes);
        try
        {
            var request = await ReadAsync(channel, options, cancellationToken).ConfigureAwait(false) as ConnectRequest;
            using var handshake = request is null ? null : DirectHandshake.ForResponder(request, me.ClientId);
            if (handshake is null)
            {
                await RefuseAsync(channel, ConnectRefusals.BadHandshake, cancellationToken).ConfigureAwait(false);
                throw new DirectCallException("Refused a direct connection: it did not start with a valid Connect Request.");
            }

            var from = ((IPEndPoint)tcp.Client.RemoteEndPoint!).Address;
            InitiatorCheck verdict;
            try
            {
                verdict = await check(handshake.InitiatorId, from.IsIPv4MappedToIPv6 ? from.MapToIPv4() : from, cancellationToken).ConfigureAwait(false);
            }
            catch (ParleyClientException e)
            {
                // The destination could not ask its server: the caller is told, not left hanging.
                await RefuseAsync(channel, ConnectRefusals.LookupFailed, cancellationToken).ConfigureAwait(false);
                throw new DirectCallException($"Refused a connection from {handshake.InitiatorId} ({from}): could not look them up ({e.Message}).");
            }

            if (verdict.Key is not { } initiatorKey)
            {
                await RefuseAsync(channel, verdict.Refusal ?? ConnectRefusals.KeyProofFailed, cancellationToken).ConfigureAwait(false);
                throw new DirectCallException($"Refused a connection from {handshake.InitiatorId} ({from}): {Display(verdict.Refusal)}.");
            }

            await channel.SendAsync(handshake.Challenge(me.Key), cancellationToken).ConfigureAwait(false);
            var answer = await ReadAsync(channel, options, cancellationToken).ConfigureAwait(false);
            if (answer is null)
            {
                throw new DirectCallException($"{handshake.InitiatorId} ({from}) hung up during the handshake.");
            }

            if (answer is not ConnectProof proof || !handshake.VerifyProof(proof, initiatorKey))
            {
                await RefuseAsync(channel, ConnectRefusals.KeyProofFailed, cancellationToken).ConfigureAwait(false);
                throw new DirectCallException($"Refused a connection from {handshake.InitiatorId} ({from}): {ConnectRefusals.KeyProofFailed}.");
            }

            await channel.SendAsync(new ConnectReply(ConnectRefusals.Accepted), cancellationToken).ConfigureAwait(false);
            var (send, receive) = handshake.DeriveKeys();
            channel.Protect(send, receive);
            return new DirectLink(tcp, channel, handshake.InitiatorId);
        }
        catch
        {
            channel.Dispose();
            tcp.Dispose();
            throw;
        }
    }

    /// <summary>Turns a call away before any handshake (seed 000's "busy"): reads the request, answers refused.</summary>
    public static async Task RefuseAsync(TcpClient tcp, string reason, ParleyClientOptions options, CancellationToken cancellationToken)
    {
        using (tcp)
        using (var channel = new MessageChannel(new StreamDuplexPipe(tcp.GetStream()), MaxFrameBytes))
        {
            try
            {
                await ReadAsync(channel, options, cancellationToken).ConfigureAwait(false);
                await RefuseAsync(channel, reason, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or DirectCallException or ProtocolException or SocketException)
            {
                // The caller is gone or broke the protocol: nothing to tell it.
            }
        }
    }

    /// <summary>
    /// Queues a line for the peer without waiting (a stalled peer must not stall the terminal); false when
    /// <see cref="OutgoingCapacity"/> lines already wait, or the link has ended.
    /// </summary>
    public bool TrySend(string text) =>
        System.Text.Encoding.UTF8.GetByteCount(text) <= MaxTextBytes && _outgoing.Writer.TryWrite(text);

    /// <summary><see cref="TrySend"/> for callers that want a failure as an exception.</summary>
    public Task SendAsync(string text) =>
        TrySend(text) ? Task.CompletedTask : Task.FromException(new IOException("The direct link has ended, or its peer is not reading."));

    private async Task SendLoopAsync()
    {
        try
        {
            await foreach (var text in _outgoing.Reader.ReadAllAsync().ConfigureAwait(false))
            {
                await _channel.SendAsync(new DirectText(text), CancellationToken.None).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or InvalidOperationException or ProtocolException)
        {
            _outgoing.Writer.TryComplete(); // the link is gone: later lines are refused, and the reader sees the end
            _tcp.Dispose();
        }
    }

    /// <summary>The next line from the peer; null when the link ended (seed 000: Ctrl-C on either side closes it).</summary>
    public async Task<string?> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            while (true)
            {
                switch (await _channel.ReadAsync(cancellationToken).ConfigureAwait(false))
                {
                    case null:
                        return null;
                    case DirectText text:
                        return text.Message;
                }
            }
        }
        catch (Exception e) when (e is IOException or SocketException or ProtocolException or ObjectDisposedException)
        {
            return null; // a broken or forged record ends the call like a hang-up
        }
    }

    /// <summary>Hangs up: closes the socket at once (a queued line may be lost, as with seed 000's Ctrl-C).</summary>
    public async ValueTask DisposeAsync()
    {
        _outgoing.Writer.TryComplete();
        _tcp.Dispose();
        await _sending.ConfigureAwait(false);
        _channel.Dispose();
    }

    private static string Display(string? reason) => reason is null ? "no reason given" : new string([.. reason.Take(80).Select(c => char.IsControl(c) ? '?' : c)]);

    private static CancellationTokenSource Deadline(ParleyClientOptions options, CancellationToken cancellationToken)
    {
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(options.DirectTimeout);
        return deadline;
    }

    /// <summary>One handshake message, within <see cref="ParleyClientOptions.DirectTimeout"/>.</summary>
    private static async Task<ParleyMessage?> ReadAsync(MessageChannel channel, ParleyClientOptions options, CancellationToken cancellationToken)
    {
        using var deadline = Deadline(options, cancellationToken);
        try
        {
            return await channel.ReadAsync(deadline.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DirectCallException($"The other terminal did not answer within {options.DirectTimeout.TotalSeconds:0.#} s.");
        }
        catch (Exception e) when (e is IOException or SocketException or ProtocolException)
        {
            throw new DirectCallException("The other terminal closed the connection during the handshake.");
        }
    }

    private static async Task RefuseAsync(MessageChannel channel, string reason, CancellationToken cancellationToken)
    {
        try
        {
            await channel.SendAsync(new ConnectReply(ConnectRefusals.Refused, reason), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException)
        {
            // The initiator has gone; the refusal is still reported locally.
        }
    }
}
