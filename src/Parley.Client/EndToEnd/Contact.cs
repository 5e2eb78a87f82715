using Parley.Protocol.Security.EndToEnd;

namespace Parley.Client.EndToEnd;

/// <summary>How far the user trusts a contact's current identity key (issue #5).</summary>
public enum KeyTrust
{
    /// <summary>No such user.</summary>
    Unknown,

    /// <summary>The contact has published no key (they have not logged on since keys existed): nothing can be sent to them.</summary>
    NoKey,

    /// <summary>Trusted on first use, or accepted after a change.</summary>
    Trusted,

    /// <summary>The user compared the safety number and confirmed it (/verify … yes).</summary>
    Verified,

    /// <summary>The current key is not one the user trusted before: a warning, and messages to the contact are held.</summary>
    Changed,
}

/// <summary>A contact's published identity keys as this client sees them, and whether it trusts the current one.</summary>
public sealed class Contact
{
    internal Contact(string clientId, IReadOnlyDictionary<string, IdentityPublicKey> keys, IdentityPublicKey? current, KeyTrust trust, bool firstUse)
    {
        ClientId = clientId;
        Keys = keys;
        Current = current;
        Trust = trust;
        FirstUse = firstUse;
    }

    /// <summary>The server's spelling of the ID.</summary>
    public string ClientId { get; }

    /// <summary>Every key the contact published whose self-signature verifies, by fingerprint.</summary>
    public IReadOnlyDictionary<string, IdentityPublicKey> Keys { get; }

    /// <summary>The key new messages are encrypted to; null with <see cref="KeyTrust.NoKey"/>.</summary>
    public IdentityPublicKey? Current { get; }

    public KeyTrust Trust { get; internal set; }

    /// <summary>With <see cref="KeyTrust.Changed"/>: the key it replaces was one the user had verified, which makes the change louder.</summary>
    public bool WasVerified { get; internal set; }

    /// <summary>True when this lookup recorded the keys for the first time (trust on first use).</summary>
    public bool FirstUse { get; }
}
