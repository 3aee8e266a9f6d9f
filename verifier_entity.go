package verify

import "context"

// CreateEntity creates an entity with the given identity in a service.
func (v *Verifier) CreateEntity(ctx context.Context, account, service Sid, identity *string) (*Entity, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, err
	}
	if identity == nil || *identity == "" {
		return nil, missing(EIdentity, "Identity")
	}
	if !ValidIdentity(*identity) {
		return nil, invalidIdentity()
	}
	e, err := v.newEntity(account, service, *identity)
	if err != nil {
		return nil, err
	}
	if err := v.Store.CreateEntity(ctx, e); err != nil {
		return nil, err
	}
	return e, nil
}

func invalidIdentity() error {
	return Errorf(EIdentity, "Invalid parameter Identity: must be 8 to 64 characters of dash-separated alphanumeric groups")
}

func (v *Verifier) newEntity(account, service Sid, identity string) (*Entity, error) {
	sid, err := v.newSid(PrefixEntity)
	if err != nil {
		return nil, err
	}
	now := v.now()
	return &Entity{Sid: sid, AccountSid: account, ServiceSid: service, Identity: identity, DateCreated: now, DateUpdated: now}, nil
}

// FetchEntity returns the entity with the given identity.
func (v *Verifier) FetchEntity(ctx context.Context, account, service Sid, identity string) (*Entity, error) {
	return v.entity(ctx, account, service, identity)
}

// DeleteEntity deletes an entity with all its factors and challenges.
func (v *Verifier) DeleteEntity(ctx context.Context, account, service Sid, identity string) error {
	if _, err := v.entity(ctx, account, service, identity); err != nil {
		return err
	}
	// One factor.deleted per factor the deletion cascades to, in its
	// transaction (docs/delivery.md §1.4).
	return v.Store.Tx(ctx, func(st Store) error {
		e, err := st.FindEntity(ctx, service, identity)
		if err != nil {
			return err
		}
		p := Page{Size: 100}
		for {
			fs, more, err := st.ListFactors(ctx, e.Sid, p)
			if err != nil {
				return err
			}
			for _, f := range fs {
				if err := v.emit(ctx, st, EventFactorDeleted, f, nil); err != nil {
					return err
				}
			}
			if !more || len(fs) == 0 {
				break
			}
			last := fs[len(fs)-1]
			p.After = &Cursor{Time: last.DateCreated, Sid: last.Sid}
		}
		return st.DeleteEntity(ctx, service, identity)
	})
}

// ListEntities lists a service's entities.
func (v *Verifier) ListEntities(ctx context.Context, account, service Sid, p Page) ([]*Entity, bool, error) {
	if _, err := v.service(ctx, account, service); err != nil {
		return nil, false, err
	}
	return v.Store.ListEntities(ctx, service, p)
}
