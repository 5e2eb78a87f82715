using Parley.Server.Connections;

namespace Parley.Server.Routing;

/// <summary>An exclusive 1:1 chat (seed 001: "The clients will be limited to 2 per simultaneous chat session").</summary>
internal sealed record ChatSession(string Id, ClientConnection A, ClientConnection B, DateTimeOffset StartedAt)
{
    public ClientConnection PeerOf(ClientConnection c) => ReferenceEquals(c, A) ? B : A;
}
