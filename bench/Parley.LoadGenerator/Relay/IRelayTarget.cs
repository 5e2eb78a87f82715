namespace Parley.LoadGenerator.Relay;

/// <summary>
/// A server the relay workload measures, Parley or an IRC server, behind one shape so that both are driven by the
/// same sender loops, timestamps and latency recorder (issue #8: "the same load generator on the same machine").
/// </summary>
internal interface IRelayTarget : IAsyncDisposable
{
    /// <summary>"parley" or "inspircd": the name results are reported under.</summary>
    string Name { get; }

    /// <summary>The server's process ID when it runs on this machine, so its CPU time and RSS can be read; else null.</summary>
    int? ServerProcessId { get; }

    /// <summary>
    /// Logs on <paramref name="pairs"/> pairs of clients and joins each pair (a CHAT session; for IRC, nothing more than
    /// two registered nicks). From then on every message a receiver gets calls <paramref name="delivered"/> with the
    /// pair's index and the message body exactly as sent, on the receiver's own read loop.
    /// </summary>
    Task<IRelayPair[]> ConnectAsync(int pairs, Action<int, string> delivered, CancellationToken cancellationToken);
}

/// <summary>One pair's sending side: a message sent here reaches the pair's receiver through the server.</summary>
internal interface IRelayPair : IAsyncDisposable
{
    /// <summary>Writes one message; completes when it is handed to the socket, not when it is delivered.</summary>
    ValueTask SendAsync(string body, CancellationToken cancellationToken);
}
