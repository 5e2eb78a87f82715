using Parley.Protocol.Framing;
using Parley.Protocol.Security;

namespace Parley.Client;

/// <summary>Where the server is and how patiently to reach it. Defaults suit a server on the same LAN or host.</summary>
public sealed record ParleyClientOptions
{
    public string Host { get; init; } = "127.0.0.1";

    /// <summary>The server's UDP port (the TCP port comes from AUTH_SUCCESS).</summary>
    public int Port { get; init; } = 5300;

    /// <summary>First wait for a UDP reply before retransmitting; doubled after each loss up to <see cref="MaxRetransmitInterval"/>.</summary>
    public TimeSpan InitialRetransmitInterval { get; init; } = TimeSpan.FromMilliseconds(500);

    public TimeSpan MaxRetransmitInterval { get; init; } = TimeSpan.FromSeconds(4);

    /// <summary>How long to keep retransmitting one UDP request before saying the server is not reachable.</summary>
    public TimeSpan UdpTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Bound on one TCP frame from the server: the protocol's maximum, so any valid server setting works.</summary>
    public int MaxFrameBytes { get; init; } = Frame.MaximumBodyBytes;

    /// <summary>
    /// Most PBKDF2 iterations the client will run. CHALLENGE is unauthenticated UDP, so without a cap a forged one
    /// could keep the client hashing for hours.
    /// </summary>
    public int MaxIterations { get; init; } = Scram.MaximumIterations;

    /// <summary>
    /// The local address the client's sockets use (UDP log-on, the TCP link, direct calls and their listener); null
    /// lets the system choose. The server records the address a user logs on from (seed 000), so this decides it.
    /// </summary>
    public System.Net.IPAddress? LocalAddress { get; init; }

    /// <summary>
    /// TCP port for direct calls (seed 000: 65000). 0 picks any free port; if the port is taken the client falls back
    /// to a free one and says so. Negative: take no direct calls.
    /// </summary>
    public int ListenPort { get; init; } = 65000;

    /// <summary>How long each step of a direct call's handshake (connect, each reply) may take.</summary>
    public TimeSpan DirectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a request over the TCP link (a key lookup, a key publication) waits for its answer.</summary>
    public TimeSpan RequestTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Incoming messages buffered before the client stops reading from the socket.</summary>
    public int EventQueueCapacity { get; init; } = 1024;
}
