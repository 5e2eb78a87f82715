using System.Net;
using Parley.Protocol.Messages;

namespace Parley.Tests.Support;

/// <summary>
/// A loopback UDP relay between one client and the server that records every AUTH_SUCCESS passing through it and,
/// once told to, answers with a recorded one instead of the server's: an attacker on the path replaying a captured
/// AUTH_SUCCESS into a later log-on (PROTOCOL §3.8, §3.11).
/// </summary>
internal sealed class ReplayingUdpProxy : IAsyncDisposable
{
    private readonly List<byte[]> _successes = [];
    private readonly UdpRelay _relay;
    private byte[]? _substitute;

    public ReplayingUdpProxy(IPEndPoint server) => _relay = new UdpRelay(server, request => request, Reply);

    public int Port => _relay.Port;

    /// <summary>Every AUTH_SUCCESS the server sent, as it sent it.</summary>
    public IReadOnlyList<byte[]> Successes
    {
        get
        {
            lock (_successes)
            {
                return [.. _successes];
            }
        }
    }

    /// <summary>From now on every AUTH_SUCCESS the server sends reaches the client as <paramref name="captured"/> instead.</summary>
    public void ReplaceAuthSuccessWith(byte[] captured) => Volatile.Write(ref _substitute, captured);

    public ValueTask DisposeAsync() => _relay.DisposeAsync();

    private ReadOnlyMemory<byte>? Reply(ReadOnlyMemory<byte> reply)
    {
        if (MessageCodec.Read(reply.Span) is not AuthSuccess)
        {
            return reply;
        }

        lock (_successes)
        {
            _successes.Add(reply.ToArray());
        }

        return Volatile.Read(ref _substitute) ?? reply;
    }
}
