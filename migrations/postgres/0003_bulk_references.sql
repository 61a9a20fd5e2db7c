-- The references of the two largest tables are checked once per statement instead of once per row.
--
-- PostgreSQL checks a FOREIGN KEY with one locking lookup per inserted row (about 10 µs, plus a WAL
-- record for each newly inserted parent row it locks). Importing a million students writes two
-- million role assignments and a million guardianships, and spent three quarters of their insert
-- time in those checks. The triggers below check all the rows of an inserting or updating statement
-- with one anti-join, and refuse to delete a person, unit or class that is still referenced, so the
-- same writes are refused as before, with the same SQLSTATE (23503, foreign_key_violation) and a
-- named constraint. SQLite keeps its REFERENCES clauses: its per-row check is a cheap B-tree lookup.

ALTER TABLE role_assignments
    DROP CONSTRAINT role_assignments_person_id_fkey,
    DROP CONSTRAINT role_assignments_unit_id_fkey,
    DROP CONSTRAINT role_assignments_class_id_fkey;
ALTER TABLE guardianships
    DROP CONSTRAINT guardianships_parent_id_fkey,
    DROP CONSTRAINT guardianships_student_id_fkey;

-- Hash and merge joins are off inside the checks: a statement inserts a thousand rows at most,
-- and the planner, which cannot know that, otherwise hashes the whole people table each time.
CREATE FUNCTION role_assignments_references_check() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM checked_rows n WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.id = n.person_id))
       OR EXISTS (SELECT 1 FROM checked_rows n WHERE NOT EXISTS (SELECT 1 FROM org_units u WHERE u.id = n.unit_id))
       OR EXISTS (SELECT 1 FROM checked_rows n
                  WHERE n.class_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM classes c WHERE c.id = n.class_id)) THEN
        RAISE EXCEPTION 'a role assignment refers to a person, unit or class that does not exist'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'role_assignments_references', TABLE = 'role_assignments';
    END IF;
    RETURN NULL;
END $$;

-- A trigger with transition tables has one event, hence one trigger for inserts and one for updates.
CREATE TRIGGER role_assignments_references_on_insert AFTER INSERT ON role_assignments
    REFERENCING NEW TABLE AS checked_rows FOR EACH STATEMENT EXECUTE FUNCTION role_assignments_references_check();
CREATE TRIGGER role_assignments_references_on_update AFTER UPDATE ON role_assignments
    REFERENCING NEW TABLE AS checked_rows FOR EACH STATEMENT EXECUTE FUNCTION role_assignments_references_check();

CREATE FUNCTION guardianships_references_check() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM checked_rows n WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.id = n.parent_id))
       OR EXISTS (SELECT 1 FROM checked_rows n WHERE NOT EXISTS (SELECT 1 FROM people p WHERE p.id = n.student_id)) THEN
        RAISE EXCEPTION 'a guardianship refers to a person who does not exist'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'guardianships_references', TABLE = 'guardianships';
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER guardianships_references_on_insert AFTER INSERT ON guardianships
    REFERENCING NEW TABLE AS checked_rows FOR EACH STATEMENT EXECUTE FUNCTION guardianships_references_check();
CREATE TRIGGER guardianships_references_on_update AFTER UPDATE ON guardianships
    REFERENCING NEW TABLE AS checked_rows FOR EACH STATEMENT EXECUTE FUNCTION guardianships_references_check();

-- The referenced side: people, units and classes are never deleted by Hanlin (they end or close);
-- a deletion by hand of one still referenced is refused like a foreign key would refuse it.
CREATE FUNCTION roster_references_kept() RETURNS trigger LANGUAGE plpgsql
SET enable_hashjoin = off SET enable_mergejoin = off AS $$
BEGIN
    IF (TG_TABLE_NAME = 'people' AND EXISTS (
            SELECT 1 FROM deleted_rows d
            WHERE EXISTS (SELECT 1 FROM role_assignments r WHERE r.person_id = d.id)
               OR EXISTS (SELECT 1 FROM guardianships g WHERE g.parent_id = d.id)
               OR EXISTS (SELECT 1 FROM guardianships g WHERE g.student_id = d.id)))
       OR (TG_TABLE_NAME = 'org_units' AND EXISTS (
            SELECT 1 FROM deleted_rows d WHERE EXISTS (SELECT 1 FROM role_assignments r WHERE r.unit_id = d.id)))
       OR (TG_TABLE_NAME = 'classes' AND EXISTS (
            SELECT 1 FROM deleted_rows d WHERE EXISTS (SELECT 1 FROM role_assignments r WHERE r.class_id = d.id))) THEN
        RAISE EXCEPTION 'a deleted % row is still referenced by role assignments or guardianships', TG_TABLE_NAME
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = TG_TABLE_NAME || '_referenced', TABLE = TG_TABLE_NAME;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER people_references_kept AFTER DELETE ON people
    REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_references_kept();
CREATE TRIGGER org_units_references_kept AFTER DELETE ON org_units
    REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_references_kept();
CREATE TRIGGER classes_references_kept AFTER DELETE ON classes
    REFERENCING OLD TABLE AS deleted_rows FOR EACH STATEMENT EXECUTE FUNCTION roster_references_kept();
