-- bench/pgo.sh's SQL workload for SQLite's shell: CPU-bound and mixed, on an in-memory database (no I/O), about
-- half a second of CPU a run at -O2: bulk inserts, B-tree indexes, joins, sorts, aggregates, string functions, LIKE and
-- GLOB, JSON building and querying, window functions, recursive CTEs, updates and deletes.
PRAGMA cache_size = -65536;
CREATE TABLE cust(id INTEGER PRIMARY KEY, name TEXT, city TEXT, score REAL, tags TEXT);
CREATE TABLE ord(id INTEGER PRIMARY KEY, cust INTEGER, item TEXT, qty INTEGER, price REAL, day INTEGER);
WITH RECURSIVE x(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM x WHERE i < 25000)
INSERT INTO cust SELECT i, printf('cust-%X', i * 2654435761 % 1000003), 'city' || (i * 7 % 97),
	(i * 31 % 1000) / 10.0, json_array(i % 5, 'k' || (i % 11), i % 3 = 0) FROM x;
WITH RECURSIVE x(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM x WHERE i < 120000)
INSERT INTO ord SELECT i, 1 + (i * 7919) % 25000, printf('item-%04d', i * 13 % 2000), 1 + i % 9,
	round((i * 17 % 10000) / 100.0, 2), i % 365 FROM x;
CREATE INDEX ord_cust ON ord(cust);
CREATE INDEX ord_item ON ord(item, day);
CREATE INDEX cust_city ON cust(city, score);
SELECT c.city, count(*), round(sum(o.qty * o.price), 2) FROM ord o JOIN cust c ON c.id = o.cust
	GROUP BY c.city ORDER BY 3 DESC LIMIT 3;
SELECT item, sum(qty) FROM ord WHERE day BETWEEN 100 AND 200 GROUP BY item ORDER BY 2 DESC, 1 LIMIT 3;
SELECT count(*) FROM cust WHERE name LIKE '%A1%' OR name GLOB '*FF*';
SELECT upper(substr(name, 6, 4)) AS k, count(*) FROM cust GROUP BY k ORDER BY 2 DESC, 1 LIMIT 3;
SELECT sum(json_extract(tags, '$[0]')), count(*) FILTER (WHERE json_extract(tags, '$[2]')) FROM cust;
SELECT cust, total FROM (SELECT cust, sum(price) AS total, rank() OVER (ORDER BY sum(price) DESC) AS r
	FROM ord GROUP BY cust) WHERE r <= 3;
SELECT day, avg(price) OVER (ORDER BY day ROWS BETWEEN 3 PRECEDING AND CURRENT ROW)
	FROM (SELECT day, avg(price) AS price FROM ord GROUP BY day) ORDER BY 2 DESC LIMIT 2;
SELECT count(*) FROM ord o1 JOIN ord o2 ON o2.item = o1.item AND o2.day >= o1.day AND o2.day < o1.day + 60 WHERE o1.qty > 7;
SELECT length(group_concat(name, ',')) FROM (SELECT name FROM cust ORDER BY score DESC, name);
SELECT count(DISTINCT replace(lower(item), 'item-', '')) FROM ord;
UPDATE ord SET price = price * 1.05 WHERE cust IN (SELECT id FROM cust WHERE city = 'city7');
DELETE FROM ord WHERE qty = 3 AND day % 2 = 0;
SELECT count(*), sum(price) FROM ord;
CREATE TABLE doc AS SELECT c.id, json_object('name', c.name, 'orders',
	(SELECT json_group_array(json_object('item', item, 'qty', qty)) FROM ord WHERE cust = c.id)) AS j
	FROM cust c WHERE c.id % 4 = 0;
SELECT sum(json_array_length(j, '$.orders')), max(length(j)) FROM doc;
SELECT count(*) FROM doc, json_each(doc.j, '$.orders') AS e WHERE json_extract(e.value, '$.qty') > 5;
WITH RECURSIVE f(n, a, b) AS (SELECT 0, 0, 1 UNION ALL SELECT n+1, b, (a + b) % 1000000007 FROM f WHERE n < 150000)
SELECT max(a) FROM f;
SELECT count(*) FROM (SELECT DISTINCT city, cast(score AS INTEGER) FROM cust ORDER BY 1, 2);
