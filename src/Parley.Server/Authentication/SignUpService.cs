using System.Net;
using Microsoft.Extensions.Logging;
using Parley.Protocol;
using Parley.Protocol.Accounts;
using Parley.Protocol.Messages;
using Parley.Protocol.Security;
using Parley.Server.Accounts;
using Parley.Storage;

namespace Parley.Server.Authentication;

/// <summary>
/// Sign-up from the client (issue #3; seed 002 "!signup", seed 003's new-user flow) over UDP:
/// SIGNUP_HELLO → SIGNUP_INFO, then SIGNUP → SIGNUP_RESULT. The client sends a SCRAM verifier sealed to the
/// server's sign-up key, never a password. Every SIGNUP, a check or a sign-up, spends one of its source address's
/// hourly tokens, so one host can neither scan IDs nor mass-register. docs/PROTOCOL.md §10.4.
/// </summary>
internal sealed class SignUpService(
    ParleyServerOptions options, UserStore users, InviteStore invites, EcdhKey signUpKey, TimeProvider time,
    RefusalLog refusals, ILogger<SignUpService> logger)
{
    private readonly AddressRateLimiter _limiter = new(options.SignUpsPerHourPerAddress, TimeSpan.FromHours(1), options.MaxTrackedAddresses, time);
    private readonly Lock _keyGate = new();

    /// <summary>Built once: every datagram may ask for it, and the key object is shared by the receive loops.</summary>
    public SignUpInfo Info { get; } = new(options.SignUpPolicy, signUpKey.PublicKeyBase64, options.ScramIterations, options.MinPasswordLength);

    public void RemoveIdle() => _limiter.RemoveIdle();

    public ParleyMessage OnSignUp(SignUp request, IPAddress source)
    {
        if (options.SignUpPolicy == SignUpPolicies.Closed)
        {
            return new Error(ErrorCodes.SignUpClosed, "This server does not take sign-ups; ask its administrator for an account.");
        }

        if (!_limiter.TryAcquire(source, out var wait))
        {
            if (refusals.Allow())
            {
                logger.LogWarning("Too many sign-up requests from {Source}", source);
            }

            return new Error(ErrorCodes.RateLimited, $"Too many sign-up requests from your address; try again in {Durations.Format(wait)}.");
        }

        SignUpBox? box;
        lock (_keyGate)
        {
            // One long-lived key serves every receive loop; OpenSSL key objects are not documented as thread-safe.
            box = SignUpBox.ForServer(signUpKey, request.EphemeralKey);
        }

        if (box?.OpenForm(request.Sealed) is not { } form)
        {
            return new Error(ErrorCodes.BadMessage, "The SIGNUP box does not open with this server's sign-up key; ask for SIGNUP_INFO again.");
        }

        var outcome = Decide(form, source);
        return new SignUpResult(box.SealOutcome(outcome));
    }

    private SignUpOutcome Decide(SignUpForm form, IPAddress source)
    {
        var id = form.ClientId;
        if (AccountRules.CheckNewId(id) is { } rule)
        {
            return new SignUpOutcome(id, SignUpCodes.IdNotAllowed, rule);
        }

        // A check must not reveal IDs to someone without a valid code; a sign-up spends the code in UserStore.SignUp,
        // which also recognizes a retransmission whose first copy already spent it.
        var invite = options.SignUpPolicy == SignUpPolicies.Invite ? form.Invite : null;
        if (options.SignUpPolicy == SignUpPolicies.Invite
            && (string.IsNullOrWhiteSpace(invite) || (form.CheckOnly && !invites.IsValid(invite, time.GetUtcNow()))))
        {
            return new SignUpOutcome(id, SignUpCodes.InviteInvalid, string.IsNullOrWhiteSpace(invite)
                ? "This server needs an invite code to sign up; ask its administrator for one."
                : "That invite code is unknown, used up or expired.");
        }

        if (form.CheckOnly)
        {
            return users.Find(id) is null
                ? new SignUpOutcome(id, SignUpCodes.Available, $"The client ID '{id}' is free.")
                : Taken(id);
        }

        if (NewVerifiers.Parse(form.Salt, form.Iterations, form.StoredKey, form.ServerKey, options.ScramIterations) is not { } verifier)
        {
            return new SignUpOutcome(id, SignUpCodes.BadVerifier, NewVerifiers.Rule(options.ScramIterations));
        }

        switch (users.SignUp(id, verifier, invite, time.GetUtcNow()))
        {
            case SignUpStatus.Created:
                logger.LogInformation("{ClientId} signed up from {Source}", id, source);
                return new SignUpOutcome(id, SignUpCodes.Created, $"Signed up as {id}.");
            case SignUpStatus.InviteInvalid:
                return new SignUpOutcome(id, SignUpCodes.InviteInvalid, "That invite code is unknown, used up or expired.");
            default:
                return Taken(id);
        }
    }

    private static SignUpOutcome Taken(string id) =>
        new(id, SignUpCodes.Taken, $"The client ID '{id}' is already taken (IDs ignore letter case); choose another.");
}
