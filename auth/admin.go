package auth

import (
	"context"

	"github.com/trueup/trueup"
)

// AdminStore is the storage of the operators' carrier and client commands,
// beside Store.
type AdminStore interface {
	Store
	Carriers(ctx context.Context) ([]trueup.Carrier, error)
	SetWhitelisted(ctx context.Context, id trueup.CarrierID, on bool) error
	SetTimeZone(ctx context.Context, id trueup.CarrierID, zone string) error
	Clients(ctx context.Context, carrier trueup.CarrierID) ([]trueup.Client, error)
	RevokeClient(ctx context.Context, id trueup.ClientID) error
}

// Admin is what operators do to carriers and clients beyond provisioning
// (which Service does): list them, change a carrier's settings, revoke a
// client. The CLI and the admin API both call it.
type Admin struct {
	Store AdminStore
	// Events, when set, records settings changed and clients revoked.
	Events trueup.Recorder
}

// Carriers returns every carrier, oldest first (an empty list is not nil).
func (a *Admin) Carriers(ctx context.Context) ([]trueup.Carrier, error) {
	list, err := a.Store.Carriers(ctx)
	if list == nil {
		list = []trueup.Carrier{}
	}
	return list, err
}

// Carrier returns the carrier with the given id, or an ENOTFOUND error.
func (a *Admin) Carrier(ctx context.Context, id trueup.CarrierID) (trueup.Carrier, error) {
	return a.Store.Carrier(ctx, id)
}

// SetCarrierParams are the inputs of SetCarrier; nil fields are kept.
type SetCarrierParams struct {
	ID          trueup.CarrierID
	Whitelisted *bool
	TimeZone    *string
}

// SetCarrier changes a carrier's whitelist flag and time zone and returns
// the carrier. An unknown carrier is ENOTFOUND; an unknown zone EINVALID.
func (a *Admin) SetCarrier(ctx context.Context, p SetCarrierParams) (trueup.Carrier, error) {
	if _, err := a.Store.Carrier(ctx, p.ID); err != nil {
		return trueup.Carrier{}, err
	}
	if p.TimeZone != nil {
		if err := a.Store.SetTimeZone(ctx, p.ID, *p.TimeZone); err != nil {
			return trueup.Carrier{}, err
		}
	}
	if p.Whitelisted != nil {
		if err := a.Store.SetWhitelisted(ctx, p.ID, *p.Whitelisted); err != nil {
			return trueup.Carrier{}, err
		}
	}
	data := map[string]any{"action": "carrier.settings"}
	if p.Whitelisted != nil {
		data["whitelisted"] = *p.Whitelisted
	}
	if p.TimeZone != nil {
		data["timeZone"] = *p.TimeZone
	}
	trueup.Emit(ctx, a.Events, nil, trueup.Event{Type: trueup.EventPartnerChanged, CarrierID: p.ID, Subject: string(p.ID), Data: data})
	return a.Store.Carrier(ctx, p.ID)
}

// Clients returns a carrier's clients, oldest first (an empty list is not
// nil); an unknown carrier is ENOTFOUND.
func (a *Admin) Clients(ctx context.Context, carrier trueup.CarrierID) ([]trueup.Client, error) {
	if _, err := a.Store.Carrier(ctx, carrier); err != nil {
		return nil, err
	}
	list, err := a.Store.Clients(ctx, carrier)
	if list == nil {
		list = []trueup.Client{}
	}
	return list, err
}

// RevokeClient revokes a client and every token issued to it; an unknown
// client is ENOTFOUND.
func (a *Admin) RevokeClient(ctx context.Context, id trueup.ClientID) error {
	if err := a.Store.RevokeClient(ctx, id); err != nil {
		return err
	}
	if a.Events != nil {
		e := trueup.Event{Type: trueup.EventCredentialRevoked, Subject: string(id), Data: map[string]any{"action": "client.revoked", "clientId": id}}
		if cl, err := a.Store.Client(ctx, id); err == nil {
			e.CarrierID = cl.CarrierID
		}
		trueup.Emit(ctx, a.Events, nil, e)
	}
	return nil
}
